import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readdir, readFile } from 'node:fs/promises'
import { randomUUID } from 'node:crypto'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from '@japa/runner'
import type { TestContext } from '@japa/runner/core'
import { FileSystem } from '@japa/file-system'
import getPort from 'get-port'
import { AceFactory } from '@adonisjs/core/factories'
import Configure from '@adonisjs/core/commands/configure'
import { CookieClient } from '../tests_helpers/index.js'
import { adonisMajor } from '../tests_helpers/framework.js'

/**
 * The package as `node ace configure` imports it (its main module).
 */
const PACKAGE_ENTRY = new URL('../index.js', import.meta.url).href

/**
 * Files of a fresh AdonisJS v6 web app (the parts the configure hook edits,
 * and what it takes to boot it with `node bin/server.js`).
 */
const APP_FILES: Record<string, string> = {
  'package.json': JSON.stringify(
    {
      name: 'fixture-app',
      private: true,
      type: 'module',
      imports: { '#start/*': './start/*.js', '#config/*': './config/*.js' },
    },
    null,
    2
  ),
  /**
   * The codemods load this project with ts-morph. Without lib files and module
   * resolution that takes milliseconds instead of seconds; the edits are the same.
   */
  'tsconfig.json': JSON.stringify(
    {
      'compilerOptions': {
        target: 'ESNext',
        module: 'NodeNext',
        experimentalDecorators: true,
        noLib: true,
        noResolve: true,
        types: [],
      },
      'exclude': ['./node_modules', './build'],
      'ts-node': { swc: true },
    },
    null,
    2
  ),
  'adonisrc.ts': `import { defineConfig } from '@adonisjs/core/app'

export default defineConfig({
  commands: [() => import('@adonisjs/core/commands')],
  providers: [() => import('@adonisjs/core/providers/app_provider')],
  preloads: [() => import('#start/routes'), () => import('#start/kernel')],
})
`,
  'start/env.ts': `import { Env } from '@adonisjs/core/env'

export default await Env.create(new URL('../', import.meta.url), {
  NODE_ENV: Env.schema.enum(['development', 'production', 'test'] as const),
  PORT: Env.schema.number(),
  APP_KEY: Env.schema.string(),
  HOST: Env.schema.string({ format: 'host' }),
  LOG_LEVEL: Env.schema.string(),
})
`,
  'start/kernel.ts': `import router from '@adonisjs/core/services/router'
import server from '@adonisjs/core/services/server'

server.use([])

router.use([() => import('@adonisjs/core/bodyparser_middleware')])

export const middleware = router.named({})
`,
  'start/routes.ts': `import router from '@adonisjs/core/services/router'

router.get('/visits', async ({ session }) => {
  session.increment('visits')
  return { visits: session.get('visits'), store: session.storeName }
})
`,
  '.env':
    'TZ=UTC\nPORT=3333\nHOST=localhost\nLOG_LEVEL=info\nAPP_KEY=fixture-app-key-that-is-long-enough-1234\nNODE_ENV=development\n',
  '.env.example':
    'TZ=UTC\nPORT=3333\nHOST=localhost\nLOG_LEVEL=info\nAPP_KEY=\nNODE_ENV=development\n',
  'config/app.ts': `import env from '#start/env'
import app from '@adonisjs/core/services/app'
import { Secret } from '@adonisjs/core/helpers'
import { defineConfig } from '@adonisjs/core/http'

export const appKey = new Secret(env.get('APP_KEY'))

export const http = defineConfig({
  generateRequestId: true,
  allowMethodSpoofing: false,
  useAsyncLocalStorage: false,
  cookie: { domain: '', path: '/', maxAge: '2h', httpOnly: true, secure: app.inProduction, sameSite: 'lax' },
})
`,
  ...(adonisMajor === 7
    ? {
        'config/encryption.ts': `import env from '#start/env'
import { defineConfig, drivers } from '@adonisjs/core/encryption'

export default defineConfig({
  default: 'gcm',
  list: { gcm: drivers.aes256gcm({ id: 'gcm', keys: [env.get('APP_KEY')] }) },
})
`,
      }
    : {}),
  'config/logger.ts': `import { defineConfig } from '@adonisjs/core/logger'

export default defineConfig({
  default: 'app',
  loggers: { app: { enabled: true, name: 'fixture-app', level: 'warn' } },
})
`,
  'config/bodyparser.ts': `import { defineConfig } from '@adonisjs/core/bodyparser'

export default defineConfig({ allowedMethods: ['POST', 'PUT', 'PATCH', 'DELETE'] })
`,
  'bin/server.ts': `import { Ignitor, prettyPrintError } from '@adonisjs/core'

const APP_ROOT = new URL('../', import.meta.url)
const IMPORTER = (filePath: string) => {
  if (filePath.startsWith('./') || filePath.startsWith('../')) {
    return import(new URL(filePath, APP_ROOT).href)
  }
  return import(filePath)
}

new Ignitor(APP_ROOT, { importer: IMPORTER })
  .tap((app) => {
    app.booting(async () => {
      await import('#start/env')
    })
    app.listen('SIGTERM', () => app.terminate())
  })
  .httpServer()
  .start()
  .catch((error) => {
    process.exitCode = 1
    prettyPrintError(error)
  })
`,
}

/**
 * `node_modules/adonis-satchel` of the fixture app: the package's subpaths,
 * pointing at this repository's sources (the package is not built in tests).
 */
function packageShim(): Record<string, string> {
  const source = (path: string) => new URL(`../${path}`, import.meta.url).href
  const files: Record<string, string> = {
    'node_modules/adonis-satchel/package.json': JSON.stringify({
      name: 'adonis-satchel',
      type: 'module',
      exports: {
        '.': './index.js',
        './session_provider': './session_provider.js',
        './session_middleware': './session_middleware.js',
        './commands': './commands.js',
      },
    }),
    'node_modules/adonis-satchel/index.js': `export * from '${source('index.js')}'\n`,
    'node_modules/adonis-satchel/commands.js': `export * from '${source('commands/main.js')}'\n`,
  }
  for (const [name, path] of [
    ['session_provider', 'providers/session_provider.js'],
    ['session_middleware', 'src/session_middleware.js'],
  ]) {
    files[`node_modules/adonis-satchel/${name}.js`] = `export { default } from '${source(path)}'\n`
  }
  return files
}

/**
 * A folder of its own for one test's app, under tmp/ (so the app resolves this
 * repository's node_modules), removed after the test. The shared `fs` folder
 * would be wiped by any other test run started meanwhile in the same tree.
 */
function appFolder({ assert, cleanup }: Pick<TestContext, 'assert' | 'cleanup'>): FileSystem {
  const fs = new FileSystem(
    fileURLToPath(new URL(`../tmp/configure-${randomUUID()}`, import.meta.url))
  )
  ;(assert as { fs?: FileSystem }).fs = fs
  cleanup(() => fs.cleanup())
  return fs
}

/**
 * Write the fixture app into the test's folder.
 */
async function createApp(fs: FileSystem, extra: Record<string, string> = {}) {
  for (const [path, contents] of Object.entries({ ...APP_FILES, ...extra })) {
    await fs.create(path, contents)
  }
}

/**
 * Run `node ace configure adonis-satchel <args>` in the fixture app with the
 * real codemods; returns the command (exit code, logs).
 */
async function runConfigure(fs: FileSystem, args: string[] = [], answer?: number) {
  const ace = await new AceFactory().make(fs.baseUrl, {
    importer: (filePath) => import(filePath),
  })
  await ace.app.init()
  ace.ui.switchMode('raw')
  const command = await ace.create(Configure, [PACKAGE_ENTRY, ...args])
  if (answer !== undefined) {
    command.prompt.trap('Select the session store').chooseOption(answer)
  }
  await command.exec()
  const logs = ace.ui.logger.getLogs().map((log) => log.message)
  return { command, logs }
}

/**
 * Every file of the app but node_modules, by relative path.
 */
async function snapshot(root: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {}
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath ?? (entry as any).path, entry.name)
    if (entry.isFile() && !relative(root, path).startsWith('node_modules')) {
      files[relative(root, path)] = await readFile(path, 'utf-8')
    }
  }
  return files
}

test.group('configure', () => {
  test('publishes the config, the env variable and its validation, the provider and the middleware', async ({
    assert,
    cleanup,
  }) => {
    const fs = appFolder({ assert, cleanup })
    await createApp(fs)
    const { command } = await runConfigure(fs, ['--store=cookie'])
    assert.equal(command.exitCode, 0)
    assert.isUndefined(command.error)

    await assert.fileContains('config/session.ts', [
      `import { defineConfig, stores } from 'adonis-satchel'`,
      `cookieName: 'adonis-session'`,
      `store: env.get('SESSION_DRIVER')`,
      'cookie: stores.cookie(),',
      `neverFlash: ['password', 'password_confirmation', '_csrf', '_method'],`,
    ])
    const config = await fs.contents('config/session.ts')
    assert.notMatch(config, /stores\.(file|redis|database|dynamodb|memory)\(/)
    assert.notInclude(config, '{{')
    for (const option of [
      'enabled',
      'cookieName',
      'clearWithBrowser',
      'age',
      'cookie',
      'store',
      'stores',
    ]) {
      assert.match(config, new RegExp(`\\*/\\n  ${option}:`), `"${option}" has a comment`)
    }

    await assert.fileContains('.env', 'SESSION_DRIVER=cookie')
    await assert.fileContains('.env.example', 'SESSION_DRIVER=cookie')
    await assert.fileContains(
      'start/env.ts',
      `SESSION_DRIVER: Env.schema.enum(['cookie', 'memory'] as const)`
    )
    await assert.fileContains('adonisrc.ts', [
      `() => import('adonis-satchel/session_provider')`,
      `() => import('adonis-satchel/commands')`,
    ])
    await assert.fileContains(
      'start/kernel.ts',
      `() => import('adonis-satchel/session_middleware')`
    )
  })

  test('running it a second time changes nothing', async ({ assert, cleanup }) => {
    const fs = appFolder({ assert, cleanup })
    await createApp(fs)
    await runConfigure(fs, ['--store=redis'])
    const before = await snapshot(fs.basePath)
    const { command } = await runConfigure(fs, ['--store=redis'])
    assert.equal(command.exitCode, 0)
    assert.deepEqual(await snapshot(fs.basePath), before)
    const kernel = before['start/kernel.ts']
    assert.equal(kernel.split('adonis-satchel/session_middleware').length, 2)
    assert.equal(before['adonisrc.ts'].split('adonis-satchel/session_provider').length, 2)
    assert.equal(before['start/env.ts'].split('SESSION_DRIVER').length, 2)
  })

  test('--store picks the store of the config and the env validation, for every store', async ({
    assert,
    cleanup,
  }) => {
    const fs = appFolder({ assert, cleanup })
    const expected: Record<string, string> = {
      cookie: 'cookie: stores.cookie()',
      file: `file: stores.file({\n      location: app.tmpPath('sessions'),`,
      redis: `redis: stores.redis({\n      connection: 'main',`,
      database: `database: stores.database({\n      tableName: 'sessions',`,
      dynamodb: `dynamodb: stores.dynamodb({\n      clientConfig: {},`,
      memory: 'memory: stores.memory()',
    }
    for (const [store, entry] of Object.entries(expected)) {
      await fs.cleanup()
      await createApp(fs)
      const { logs } = await runConfigure(fs, [`--store=${store}`])
      const config = await fs.contents('config/session.ts')
      assert.include(config, entry, store)
      assert.equal(config.match(/: stores\.\w+\(/g)!.length, 1, store)
      const names = store === 'memory' ? `'memory'` : `'${store}', 'memory'`
      await assert.fileContains('start/env.ts', `Env.schema.enum([${names}] as const)`)
      await assert.fileContains('.env', `SESSION_DRIVER=${store}`)
      if (store === 'database') {
        assert.isTrue(logs.some((log) => log.includes('node ace make:session-table')))
      }
    }
  })

  test('without --store it asks which store to use', async ({ assert, cleanup }) => {
    const fs = appFolder({ assert, cleanup })
    await createApp(fs)
    const { command } = await runConfigure(fs, [], 1)
    assert.equal(command.exitCode, 0)
    await assert.fileContains('config/session.ts', 'file: stores.file({')
    await assert.fileContains('.env', 'SESSION_DRIVER=file')
  })

  test('node ace add forwards the flag as two arguments, which works too', async ({
    assert,
    cleanup,
  }) => {
    const fs = appFolder({ assert, cleanup })
    await createApp(fs)
    const { command } = await runConfigure(fs, ['--store', 'database'])
    assert.equal(command.exitCode, 0)
    await assert.fileContains('config/session.ts', 'database: stores.database({')
  })

  test('an unknown store is refused and nothing is written', async ({ assert, cleanup }) => {
    const fs = appFolder({ assert, cleanup })
    await createApp(fs)
    const { command, logs } = await runConfigure(fs, ['--store=mongo'])
    assert.equal(command.exitCode, 1)
    assert.isTrue(logs.some((log) => log.includes('Invalid store "mongo"')))
    await assert.fileNotExists('config/session.ts')
    assert.notInclude(await fs.contents('.env'), 'SESSION_DRIVER')
    assert.notInclude(await fs.contents('start/env.ts'), 'SESSION_DRIVER')
  })

  test('--force with another store rewrites the config and leaves no stale env validation', async ({
    assert,
    cleanup,
  }) => {
    const fs = appFolder({ assert, cleanup })
    await createApp(fs)
    await runConfigure(fs, ['--store=cookie'])

    const kept = await runConfigure(fs, ['--store=file'])
    assert.isTrue(kept.logs.some((log) => log.includes('--force')))
    await assert.fileContains('config/session.ts', 'cookie: stores.cookie()')
    await assert.fileContains('.env', 'SESSION_DRIVER=cookie')

    await runConfigure(fs, ['--store=file', '--force'])
    await assert.fileContains('config/session.ts', 'file: stores.file({')
    await assert.fileContains('.env', 'SESSION_DRIVER=file')
    const env = await fs.contents('start/env.ts')
    assert.include(env, `SESSION_DRIVER: Env.schema.enum(['file', 'memory'] as const)`)
    assert.notInclude(env, `'cookie'`)
  })

  test('an app that used @adonisjs/session is switched over', async ({ assert, cleanup }) => {
    const fs = appFolder({ assert, cleanup })
    await createApp(fs, {
      'adonisrc.ts': APP_FILES['adonisrc.ts'].replace(
        `providers: [`,
        `providers: [\n    () => import('@adonisjs/session/session_provider'),`
      ),
      'start/kernel.ts': APP_FILES['start/kernel.ts'].replace(
        `bodyparser_middleware')`,
        `bodyparser_middleware'),\n  () => import('@adonisjs/session/session_middleware')`
      ),
      'config/session.ts': `import { defineConfig, stores } from '@adonisjs/session'\n\nexport default defineConfig({ store: 'cookie', stores: { cookie: stores.cookie() } })\n`,
      '.env': `${APP_FILES['.env']}SESSION_DRIVER=cookie\n`,
    })
    const { command } = await runConfigure(fs, ['--store=cookie'])
    assert.equal(command.exitCode, 0)

    const files = await snapshot(fs.basePath)
    for (const path of ['adonisrc.ts', 'start/kernel.ts', 'config/session.ts']) {
      assert.notInclude(files[path], '@adonisjs/session', path)
    }
    assert.equal(files['adonisrc.ts'].split('adonis-satchel/session_provider').length, 2)
    assert.equal(files['start/kernel.ts'].split('adonis-satchel/session_middleware').length, 2)
    assert.include(files['config/session.ts'], `from 'adonis-satchel'`)
  })

  test('the configured app boots and its routes read and write ctx.session', async ({
    assert,
    cleanup,
  }) => {
    const fs = appFolder({ assert, cleanup })
    await createApp(fs, packageShim())
    await runConfigure(fs, ['--store=cookie'])

    const port = await getPort()
    const server = spawn(
      process.execPath,
      ['--import=ts-node-maintained/register/esm', 'bin/server.ts'],
      {
        cwd: fileURLToPath(fs.baseUrl),
        env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', NODE_ENV: 'development' },
        stdio: ['ignore', 'pipe', 'pipe'],
      }
    )
    let output = ''
    server.stdout.on('data', (chunk) => (output += chunk))
    server.stderr.on('data', (chunk) => (output += chunk))
    cleanup(async () => {
      if (server.exitCode === null) {
        server.kill('SIGTERM')
        await once(server, 'exit')
      }
    })

    const browser = new CookieClient(`http://127.0.0.1:${port}`)
    const deadline = Date.now() + 20_000
    let first
    while (!first) {
      first = await browser.get('/visits').catch(() => undefined)
      if (!first) {
        assert.isNull(server.exitCode, `the app exited:\n${output}`)
        assert.isBelow(Date.now(), deadline, `the app did not start:\n${output}`)
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
    }
    assert.equal(first.status, 200, output)
    assert.deepEqual(first.json(), { visits: 1, store: 'cookie' })
    assert.isTrue(first.setCookies.some((cookie) => cookie.startsWith('adonis-session=s%3A')))
    assert.deepEqual((await browser.get('/visits')).json(), { visits: 2, store: 'cookie' })
  }).timeout(60_000)
})
