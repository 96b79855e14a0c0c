import type Configure from '@adonisjs/core/commands/configure'
import { stubsRoot } from './stubs/main.js'

/**
 * `node ace add adonis-satchel`: publish config/session.ts, set SESSION_DRIVER,
 * validate it in start/env.ts, register the provider and the middleware.
 */
export async function configure(command: Configure) {
  const codemods = await command.createCodemods()
  await codemods.makeUsingStub(stubsRoot, 'config/session.stub', {})
  await codemods.defineEnvVariables({ SESSION_DRIVER: 'cookie' })
  await codemods.defineEnvValidations({
    variables: { SESSION_DRIVER: `Env.schema.enum(['cookie', 'memory'] as const)` },
    leadingComment: 'Variables for configuring session package',
  })
  await codemods.registerMiddleware('router', [{ path: 'adonis-satchel/session_middleware' }])
  await codemods.updateRcFile((rcFile) => {
    rcFile.addProvider('adonis-satchel/session_provider')
  })
}
