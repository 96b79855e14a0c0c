import { IgnitorFactory } from '@adonisjs/core/factories'
import type { ApplicationService } from '@adonisjs/core/types'
import { appKeyConfigFiles } from './framework.js'

/**
 * The URL of the package entry point, for config files written by tests.
 */
export const PACKAGE_ENTRY = new URL('../index.js', import.meta.url).href

/**
 * The config files of a minimal app, next to which a test writes its
 * `config/session.js`.
 */
export const CORE_CONFIG_FILES: Record<string, string> = {
  ...appKeyConfigFiles(),
  'config/logger.js': [
    `import { defineConfig } from '@adonisjs/core/logger'`,
    `export default defineConfig({ default: 'app', loggers: { app: { enabled: false } } })`,
  ].join('\n'),
}

/**
 * Boot a real app whose config is loaded from the files in `appRoot/config`,
 * as `node ace serve` does: an invalid `config/session.ts` fails here.
 */
export async function bootAppFromConfigFiles(appRoot: URL): Promise<ApplicationService> {
  const ignitor = new IgnitorFactory()
    .merge({
      rcFileContents: { providers: [() => import('../providers/session_provider.js')] },
    })
    .withCoreProviders()
    .create(appRoot, { importer: (path) => import(path) })
  const app = ignitor.createApp('web')
  await app.init()
  await app.boot()
  return app
}
