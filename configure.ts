import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import type Configure from '@adonisjs/core/commands/configure'
import { stubsRoot } from './stubs/main.js'

/**
 * The stores `node ace configure adonis-satchel --store=<name>` can set up.
 */
const CONFIGURABLE_STORES = ['cookie', 'file', 'redis', 'database', 'dynamodb', 'memory']

/**
 * What each store needs besides the config file, told after configuring.
 */
const NEXT_STEPS: Record<string, string> = {
  redis:
    'The redis store uses the "main" connection of @adonisjs/redis: run "node ace add @adonisjs/redis" if the app does not have it',
  database:
    'The database store uses @adonisjs/lucid: create its table with "node ace make:session-table", then "node ace migration:run"',
  dynamodb:
    'The dynamodb store needs a "Session" table (partition key "key", string) and AWS credentials in the environment',
  memory:
    'The memory store loses every session on restart: use it for tests and local development only',
}

/**
 * Module paths of @adonisjs/session that have the same meaning in this package.
 */
const OFFICIAL_PACKAGE = '@adonisjs/session'
const SHARED_SUBPATHS = new Set([
  '',
  '/session_provider',
  '/session_middleware',
  '/services/main',
  '/types',
  '/factories',
  '/client',
  '/plugins/edge',
  '/plugins/api_client',
  '/plugins/browser_client',
  '/commands',
])

/**
 * Files of an app that reference @adonisjs/session when it was installed.
 */
const FILES_TO_MIGRATE = [
  'adonisrc.ts',
  'start/kernel.ts',
  'config/session.ts',
  'tests/bootstrap.ts',
]

/**
 * The SESSION_DRIVER validation for a store: the store itself and "memory",
 * which is always available (tests), and nothing else.
 */
function driverValidation(store: string): string {
  const names = store === 'memory' ? ['memory'] : [store, 'memory']
  return `Env.schema.enum([${names.map((name) => `'${name}'`).join(', ')}] as const)`
}

/**
 * The codemods of the configure command (ts-morph edits, stubs, env files).
 */
type Codemods = Awaited<ReturnType<Configure['createCodemods']>>

/**
 * The store from `--store`, or asked for when the flag is missing.
 */
async function chooseStore(command: Configure): Promise<string | undefined> {
  const flag = command.parsedFlags.store
  if (flag === undefined) {
    return command.prompt.choice('Select the session store', CONFIGURABLE_STORES, {
      hint: 'cookie needs no server; file, redis, database and dynamodb keep sessions on the server',
    })
  }
  if (typeof flag !== 'string' || !CONFIGURABLE_STORES.includes(flag)) {
    command.logger.error(
      `Invalid store "${String(flag)}". Use --store=${CONFIGURABLE_STORES.join('|')}`
    )
    command.exitCode = 1
    return undefined
  }
  return flag
}

/**
 * True when the app's `.env` already sets SESSION_DRIVER.
 */
async function envDefinesDriver(command: Configure): Promise<boolean> {
  const envFile = command.app.makePath('.env')
  if (!existsSync(envFile)) {
    return false
  }
  return /^SESSION_DRIVER=/m.test(await readFile(envFile, 'utf-8'))
}

/**
 * Point the imports of an app that used @adonisjs/session (provider,
 * middleware, config, test plugins) to this package, which has the same
 * subpaths and config shape.
 */
async function replaceOfficialPackage(command: Configure, codemods: Codemods) {
  const paths = FILES_TO_MIGRATE.map((file) => command.app.makePath(file)).filter(existsSync)
  const project = paths.length ? await codemods.getTsMorphProject() : undefined
  for (const path of project ? paths : []) {
    const file = project!.addSourceFileAtPath(path)
    let changed = false
    file.forEachDescendant((node) => {
      if (node.getKindName() !== 'StringLiteral') {
        return
      }
      const literal = node as unknown as {
        getLiteralValue(): string
        setLiteralValue(value: string): void
      }
      const value = literal.getLiteralValue()
      const subpath = value.slice(OFFICIAL_PACKAGE.length)
      if (value.startsWith(OFFICIAL_PACKAGE) && SHARED_SUBPATHS.has(subpath)) {
        literal.setLiteralValue(`adonis-satchel${subpath}`)
        changed = true
      }
    })
    if (changed) {
      await file.save()
      command.logger
        .action(`replace @adonisjs/session in ${command.app.relativePath(path)}`)
        .succeeded()
    }
  }
}

/**
 * Validate SESSION_DRIVER in start/env.ts for the store; when `replace` is set,
 * an existing validation is replaced too, so it never lists a stale store.
 */
async function defineDriverValidation(codemods: Codemods, store: string, replace: boolean) {
  const validation = driverValidation(store)
  if (replace) {
    const project = await codemods.getTsMorphProject()
    const envFile = project?.getSourceFile((file) => file.getFilePath().endsWith('/start/env.ts'))
    const property = envFile
      ?.getDescendants()
      .find(
        (node) =>
          node.getKindName() === 'PropertyAssignment' &&
          (node as unknown as { getName(): string }).getName() === 'SESSION_DRIVER'
      ) as
      { getInitializer(): { getText(): string }; setInitializer(text: string): void } | undefined
    if (property && property.getInitializer().getText() !== validation) {
      property.setInitializer(validation)
      await envFile!.save()
      return
    }
  }
  await codemods.defineEnvValidations({
    variables: { SESSION_DRIVER: validation },
    leadingComment: 'Variables for configuring the session package',
  })
}

/**
 * `node ace add adonis-satchel` / `node ace configure adonis-satchel [--store=<name>]`:
 * publish config/session.ts for the store, set SESSION_DRIVER in .env and
 * .env.example, validate it in start/env.ts, register the provider, the
 * commands and the router middleware. An app that used @adonisjs/session is
 * switched over. Running it again changes nothing; `--force` rewrites the
 * config for another store.
 */
export async function configure(command: Configure) {
  const store = await chooseStore(command)
  if (!store) {
    return
  }
  const codemods = await command.createCodemods()
  await replaceOfficialPackage(command, codemods)

  const output = await codemods.makeUsingStub(stubsRoot, 'config/session.stub', { store })
  const configWritten = output.status !== 'skipped'
  if (configWritten || !(await envDefinesDriver(command))) {
    await codemods.defineEnvVariables({ SESSION_DRIVER: store })
  }
  await defineDriverValidation(codemods, store, configWritten)

  await codemods.registerMiddleware('router', [{ path: 'adonis-satchel/session_middleware' }])
  await codemods.updateRcFile((rcFile) => {
    rcFile.addProvider('adonis-satchel/session_provider')
    rcFile.addCommand('adonis-satchel/commands')
  })
  if (!configWritten) {
    command.logger.info(
      'config/session.ts exists and was kept; run again with --force to replace it for this store'
    )
  }
  if (NEXT_STEPS[store]) {
    command.logger.info(NEXT_STEPS[store])
  }
}
