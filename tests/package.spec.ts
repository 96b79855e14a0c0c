import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { builtinModules } from 'node:module'
import { Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { test } from '@japa/runner'
import getPort from 'get-port'
import { CookieClient } from '../tests_helpers/index.js'

const REPO = fileURLToPath(new URL('../', import.meta.url))
const IS_CI = process.env.CI === 'true'
const REDIS_HOST = process.env.REDIS_HOST ?? '127.0.0.1'
const REDIS_PORT = Number(process.env.REDIS_PORT ?? 6379)
const run = promisify(execFile)

/**
 * The environment of child processes, as a clean shell has it: without the
 * `npm_*` variables of `npm test` (`npm_config_local_prefix` would point npm
 * at this repo) and without c8's coverage variable (the build, npm and the
 * app are not what the coverage report measures).
 */
const CHILD_ENV: Record<string, string> = {}
for (const [key, value] of Object.entries(process.env)) {
  if (value !== undefined && !/^npm_/i.test(key) && key !== 'NODE_V8_COVERAGE') {
    CHILD_ENV[key] = value
  }
}

/**
 * The subpaths an app imports, as in `exports` of package.json.
 */
const SUBPATHS = [
  '.',
  './session_provider',
  './session_middleware',
  './services/main',
  './types',
  './factories',
  './client',
  './plugins/edge',
  './plugins/api_client',
  './plugins/browser_client',
  './commands',
]

/**
 * Optional peers a subpath may import at load time: its whole point is that
 * peer. Every other optional peer may only be imported lazily (`import()`).
 */
const PEERS_OF_SUBPATH: Record<string, string[]> = {
  './plugins/edge': ['edge.js'],
  './plugins/api_client': ['@japa/api-client'],
  './plugins/browser_client': ['@japa/browser-client'],
  './factories': ['@japa/runner'],
}

/** True when something answers on host:port. */
function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = new Socket()
    socket.setTimeout(1000)
    const finish = (answered: boolean) => {
      socket.destroy()
      done(answered)
    }
    socket.once('connect', () => finish(true))
    socket.once('error', () => finish(false))
    socket.once('timeout', () => finish(false))
    socket.connect(port, host)
  })
}

const redisUp = await canConnect(REDIS_HOST, REDIS_PORT)
if (!redisUp && !IS_CI) {
  console.warn(
    `\n  ⚠ SKIPPING the redis store of tests/package.spec.ts: nothing answers on ${REDIS_HOST}:${REDIS_PORT}\n`
  )
}

/**
 * The files of the fresh AdonisJS v6 app, as a developer writes them: TypeScript
 * run through ts-node, `#start/*` imports, env validation, provider, middleware
 * and config/session.ts with `defineConfig` / `stores` from the package.
 */
const APP_FILES: Record<string, string> = {
  'package.json': JSON.stringify(
    {
      name: 'satchel-package-app',
      private: true,
      type: 'module',
      imports: { '#start/*': './start/*.js', '#app/*': './app/*.js' },
      dependencies: {},
    },
    null,
    2
  ),
  'tsconfig.json': JSON.stringify({
    extends: '@adonisjs/tsconfig/tsconfig.app.json',
    compilerOptions: { rootDir: './', outDir: './build' },
  }),
  'ace.js': `import 'ts-node-maintained/register/esm'
await import('./bin/console.js')
`,
  'adonisrc.ts': `import { defineConfig } from '@adonisjs/core/app'

export default defineConfig({
  commands: [() => import('@adonisjs/lucid/commands'), () => import('adonis-satchel/commands')],
  providers: [
    () => import('@adonisjs/core/providers/app_provider'),
    () => import('@adonisjs/core/providers/hash_provider'),
    () => import('@adonisjs/redis/redis_provider'),
    () => import('@adonisjs/lucid/database_provider'),
    () => import('adonis-satchel/session_provider'),
  ],
  preloads: [() => import('#start/routes'), () => import('#start/kernel')],
})
`,
  'bin/server.ts': `import { Ignitor, prettyPrintError } from '@adonisjs/core'

const APP_ROOT = new URL('../', import.meta.url)
const IMPORTER = (filePath: string) =>
  filePath.startsWith('./') || filePath.startsWith('../')
    ? import(new URL(filePath, APP_ROOT).href)
    : import(filePath)

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
  'bin/console.ts': `import { Ignitor, prettyPrintError } from '@adonisjs/core'

const APP_ROOT = new URL('../', import.meta.url)
const IMPORTER = (filePath: string) =>
  filePath.startsWith('./') || filePath.startsWith('../')
    ? import(new URL(filePath, APP_ROOT).href)
    : import(filePath)

new Ignitor(APP_ROOT, { importer: IMPORTER })
  .tap((app) => {
    app.booting(async () => {
      await import('#start/env')
    })
  })
  .ace()
  .handle(process.argv.splice(2))
  .catch((error) => {
    process.exitCode = 1
    prettyPrintError(error)
  })
`,
  'start/env.ts': `import { Env } from '@adonisjs/core/env'

export default await Env.create(new URL('../', import.meta.url), {
  NODE_ENV: Env.schema.enum(['development', 'production', 'test'] as const),
  PORT: Env.schema.number(),
  HOST: Env.schema.string({ format: 'host' }),
  APP_KEY: Env.schema.string(),
  SESSION_DRIVER: Env.schema.enum(['cookie', 'memory', 'file', 'redis', 'database'] as const),
  REDIS_HOST: Env.schema.string({ format: 'host' }),
  REDIS_PORT: Env.schema.number(),
  REDIS_PREFIX: Env.schema.string(),
})
`,
  'start/kernel.ts': `import router from '@adonisjs/core/services/router'

router.use([
  () => import('@adonisjs/core/bodyparser_middleware'),
  () => import('adonis-satchel/session_middleware'),
])
`,
  'start/routes.ts': `import router from '@adonisjs/core/services/router'
import sessions from 'adonis-satchel/services/main'

router.get('/health', () => 'ok')

router.get('/visits', ({ session }) => {
  session.increment('visits')
  return { visits: session.get('visits') }
})

router.post('/notes', ({ session, request, response }) => {
  session.flash('notice', \`saved \${request.input('title')}\`)
  return response.redirect('/notes')
})

router.get('/notes', ({ session }) => ({ notice: session.flashMessages.get('notice') ?? null }))

router.get('/login/:user', async ({ session, params }) => {
  session.put('userId', params.user)
  await session.tag(params.user)
  return { store: sessions.storeName }
})

router.get('/sessions/:user', async ({ params }) => ({
  count: (await sessions.tagged(params.user)).length,
}))

router.get('/subpaths', async ({ request }) => {
  const exports: Record<string, string[]> = {}
  for (const subpath of request.input('names', []) as string[]) {
    exports[subpath] = Object.keys(await import(subpath)).sort()
  }
  return exports
})
`,
  'app/counting_store.ts': `import type { SessionData, SessionStoreContract } from 'adonis-satchel/types'

/**
 * A custom store, as the docs show, to check the store contract type.
 */
export class CountingStore implements SessionStoreContract {
  entries = new Map<string, SessionData>()
  read(sessionId: string) {
    return this.entries.get(sessionId) ?? null
  }
  write(sessionId: string, data: SessionData) {
    this.entries.set(sessionId, data)
  }
  destroy(sessionId: string) {
    this.entries.delete(sessionId)
  }
  touch() {}
}
`,
  'config/app.ts': `import env from '#start/env'
import { Secret } from '@adonisjs/core/helpers'
import { defineConfig } from '@adonisjs/core/http'

export const appKey = new Secret(env.get('APP_KEY'))

export const http = defineConfig({
  generateRequestId: true,
  allowMethodSpoofing: false,
  useAsyncLocalStorage: false,
  cookie: { domain: '', path: '/', maxAge: '2h', httpOnly: true, secure: false, sameSite: 'lax' },
})
`,
  'config/bodyparser.ts': `import { defineConfig } from '@adonisjs/core/bodyparser'

export default defineConfig({ allowedMethods: ['POST'] })
`,
  'config/logger.ts': `import { defineConfig } from '@adonisjs/core/logger'

export default defineConfig({ default: 'app', loggers: { app: { enabled: true, level: 'warn' } } })
`,
  'config/hash.ts': `import { defineConfig, drivers } from '@adonisjs/core/hash'

export default defineConfig({ default: 'scrypt', list: { scrypt: drivers.scrypt({}) } })
`,
  'config/redis.ts': `import env from '#start/env'
import { defineConfig } from '@adonisjs/redis'

export default defineConfig({
  connection: 'main',
  connections: { main: { host: env.get('REDIS_HOST'), port: env.get('REDIS_PORT') } },
})
`,
  'config/database.ts': `import app from '@adonisjs/core/services/app'
import { defineConfig } from '@adonisjs/lucid'

export default defineConfig({
  connection: 'sqlite',
  connections: {
    sqlite: {
      client: 'better-sqlite3',
      connection: { filename: app.tmpPath('db.sqlite3') },
      useNullAsDefault: true,
      migrations: { naturalSort: true, paths: ['database/migrations'] },
    },
  },
})
`,
  'config/session.ts': `import env from '#start/env'
import app from '@adonisjs/core/services/app'
import { defineConfig, stores } from 'adonis-satchel'
import { CountingStore } from '#app/counting_store'

const countingStore = new CountingStore()

export default defineConfig({
  enabled: true,
  cookieName: 'adonis-session',
  clearWithBrowser: false,
  age: '2h',
  cookie: { path: '/', httpOnly: true, secure: app.inProduction, sameSite: 'lax' },
  store: env.get('SESSION_DRIVER'),
  stores: {
    cookie: stores.cookie(),
    file: stores.file({ location: app.tmpPath('sessions') }),
    redis: stores.redis({ connection: 'main', prefix: env.get('REDIS_PREFIX') }),
    database: stores.database(),
    counting: () => countingStore,
  },
})
`,
}

/**
 * The pieces of the temporary workspace, set up once for the group.
 */
interface Workspace {
  root: string
  app: string
  tarball: string
  packedFiles: string[]
  packageJson: Record<string, any>
  typecheck: { exitCode: number; output: string }
  env: Record<string, string>
}

let workspace: Workspace

/**
 * `npm pack` the package (its prepack script builds it), create the app next
 * to a node_modules that links the repo's (peers and tools: @adonisjs/core,
 * lucid, redis, typescript, ts-node), `npm install` the tarball into the app
 * with its own dependencies, then type-check the app.
 */
async function createWorkspace(root: string): Promise<Workspace> {
  const app = join(root, 'app')
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', root], {
    cwd: REPO,
    env: CHILD_ENV,
    maxBuffer: 64 * 1024 * 1024,
  }).catch((error) => {
    throw new Error(`"npm pack" (which builds the package) failed:\n${error.stdout}${error.stderr}`)
  })
  const [packed] = JSON.parse(stdout.slice(stdout.indexOf('[')))
  const tarball = join(root, packed.filename)

  await symlink(join(REPO, 'node_modules'), join(root, 'node_modules'), 'dir')
  for (const [path, contents] of Object.entries(APP_FILES)) {
    await mkdir(dirname(join(app, path)), { recursive: true })
    await writeFile(join(app, path), contents)
  }
  await run(
    'npm',
    [
      'install',
      `file:${tarball}`,
      '--prefer-offline',
      '--legacy-peer-deps',
      '--no-audit',
      '--no-fund',
    ],
    { cwd: app, env: CHILD_ENV }
  )

  let typecheck = { exitCode: 0, output: '' }
  await run(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '--noEmit'], {
    cwd: app,
    env: CHILD_ENV,
  }).catch((error) => {
    typecheck = { exitCode: error.code ?? 1, output: `${error.stdout}${error.stderr}` }
  })

  const env: Record<string, string> = {
    ...CHILD_ENV,
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    PORT: '3333',
    APP_KEY: randomBytes(24).toString('base64url'),
    SESSION_DRIVER: 'cookie',
    REDIS_HOST,
    REDIS_PORT: String(REDIS_PORT),
    REDIS_PREFIX: `satchel-package-${randomBytes(4).toString('hex')}:`,
  }

  return {
    root,
    app,
    tarball,
    packedFiles: packed.files.map((file: { path: string }) => file.path),
    packageJson: JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')),
    typecheck,
    env,
  }
}

/**
 * A server of the app (`node bin/server.ts` through ts-node, as `node ace
 * serve` runs it), ready once it answers /health.
 */
async function startServer(env: Record<string, string>) {
  const port = await getPort({ host: '127.0.0.1' })
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import=ts-node-maintained/register/esm', 'bin/server.ts'],
    {
      cwd: workspace.app,
      env: { ...workspace.env, ...env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    }
  )
  let output = ''
  child.stdout!.on('data', (chunk) => (output += chunk))
  child.stderr!.on('data', (chunk) => (output += chunk))
  const url = `http://127.0.0.1:${port}`
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await once(child, 'exit')
      clearTimeout(timer)
    }
  }
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`The app server exited with code ${child.exitCode}:\n${output}`)
    }
    const ready = await fetch(`${url}/health`).then(
      (response) => response.ok,
      () => false
    )
    if (ready) {
      return { url, stop, output: () => output }
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 100))
  }
  await stop()
  throw new Error(`The app server did not answer within 30s:\n${output}`)
}

/**
 * Run `node ace <args>` in the app; resolves with the exit code and output.
 */
async function ace(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['ace.js', ...args], {
      cwd: workspace.app,
      env: { ...workspace.env, ...env },
    })
    return { exitCode: 0, output: `${stdout}${stderr}` }
  } catch (error: any) {
    return { exitCode: error.code as number, output: `${error.stdout}${error.stderr}` }
  }
}

/**
 * The bare package names a built module imports, split into load-time
 * (static) and lazy (`import()`) imports, and the relative files it imports.
 */
async function importsOf(file: string) {
  const code = (await readFile(file, 'utf8'))
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '')
  const specifiers = (pattern: RegExp) => [...code.matchAll(pattern)].map((match) => match[1])
  const staticImports = [
    ...specifiers(/^\s*(?:import|export)\s[^'"]*?\sfrom\s+['"]([^'"]+)['"]/gm),
    ...specifiers(/^\s*import\s+['"]([^'"]+)['"]/gm),
  ]
  const lazyImports = specifiers(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)
  return { staticImports, lazyImports }
}

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]
}

/** True for `node:fs` and `fs`. */
function isBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0])
}

/**
 * The packages a subpath of the installed package loads at import time: the
 * static import closure of its entry file.
 */
async function loadTimePackages(entry: string): Promise<Set<string>> {
  const packages = new Set<string>()
  const seen = new Set<string>()
  const queue = [entry]
  while (queue.length) {
    const file = queue.pop()!
    if (seen.has(file)) continue
    seen.add(file)
    for (const specifier of (await importsOf(file)).staticImports) {
      if (specifier.startsWith('.')) queue.push(resolve(dirname(file), specifier))
      else if (!isBuiltin(specifier)) packages.add(packageName(specifier))
    }
  }
  return packages
}

/** Every .js file under a folder. */
async function jsFiles(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true })
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.js'))
    .map((entry) => join(entry.parentPath, entry.name))
}

test.group('package', (group) => {
  let root: string
  group.setup(async () => {
    root = await mkdtemp(join(tmpdir(), 'satchel-package-'))
    workspace = await createWorkspace(root)
  })
  group.teardown(async () => {
    if (root) await rm(root, { recursive: true, force: true })
  })

  test('the tarball holds the build, the stubs and every export target', ({ assert }) => {
    const files = workspace.packedFiles
    for (const target of Object.values(workspace.packageJson.exports) as string[]) {
      assert.include(files, target.replace('./', ''), `export target ${target}`)
      assert.include(files, target.replace('./', '').replace(/\.js$/, '.d.ts'))
    }
    assert.includeMembers(files, [
      'package.json',
      'build/stubs/config/session.stub',
      'build/stubs/make/migration/sessions.stub',
    ])
    const stray = files.filter(
      (file) =>
        file !== 'package.json' &&
        !/^(README|LICENSE)/i.test(file) &&
        (!file.startsWith('build/') ||
          /^build\/(tests|tests_helpers|bin|bench|demo)\//.test(file) ||
          (file.endsWith('.ts') && !file.endsWith('.d.ts')))
    )
    assert.deepEqual(stray, [])
  })

  test('every package the build imports is a dependency, a peer or built into node', async ({
    assert,
  }) => {
    const { dependencies = {}, peerDependencies = {} } = workspace.packageJson
    const declared = new Set([...Object.keys(dependencies), ...Object.keys(peerDependencies)])
    const build = join(workspace.app, 'node_modules/adonis-satchel/build')
    const undeclared: string[] = []
    for (const file of await jsFiles(build)) {
      const { staticImports, lazyImports } = await importsOf(file)
      for (const specifier of [...staticImports, ...lazyImports]) {
        if (specifier.startsWith('.') || isBuiltin(specifier)) continue
        if (!declared.has(packageName(specifier))) {
          undeclared.push(`${relative(build, file)} imports ${specifier}`)
        }
      }
    }
    assert.deepEqual(undeclared, [])
  })

  test('no subpath loads an optional peer it is not about', async ({ assert }) => {
    const { peerDependenciesMeta = {}, exports } = workspace.packageJson
    const optional = Object.keys(peerDependenciesMeta).filter(
      (name) => peerDependenciesMeta[name].optional
    )
    const installed = join(workspace.app, 'node_modules/adonis-satchel')
    const offenders: string[] = []
    for (const subpath of SUBPATHS) {
      const loaded = await loadTimePackages(join(installed, exports[subpath]))
      for (const peer of optional) {
        if (loaded.has(peer) && !(PEERS_OF_SUBPATH[subpath] ?? []).includes(peer)) {
          offenders.push(`${subpath} loads ${peer}`)
        }
      }
    }
    assert.deepEqual(offenders, [])
  })

  test('the app type-checks against the installed package', ({ assert }) => {
    assert.equal(workspace.typecheck.exitCode, 0, workspace.typecheck.output)
  })

  test('every subpath loads in the app with at least the exports of @adonisjs/session', async ({
    assert,
    cleanup,
  }) => {
    const server = await startServer({ SESSION_DRIVER: 'cookie' })
    cleanup(server.stop)
    const names = SUBPATHS.map((subpath) => subpath.replace(/^\./, 'adonis-satchel'))
    const query = names.map((name) => `names[]=${encodeURIComponent(name)}`).join('&')
    const response = await fetch(`${server.url}/subpaths?${query}`)
    assert.equal(response.status, 200, await response.clone().text())
    const exports = (await response.json()) as Record<string, string[]>
    assert.deepEqual(Object.keys(exports), names)

    const official = JSON.parse(
      await readFile(join(REPO, 'node_modules/adonisjs-session-official/package.json'), 'utf8')
    ).exports as Record<string, string>
    for (const subpath of Object.keys(official)) {
      const theirs = Object.keys(await import(`adonisjs-session-official${subpath.slice(1)}`))
      assert.includeMembers(exports[`adonis-satchel${subpath.slice(1)}`], theirs, subpath)
    }
  })

  for (const store of ['cookie', 'memory', 'file', 'redis', 'database'] as const) {
    test(`sessions and flash messages work over HTTP on the ${store} store`, async ({
      assert,
      cleanup,
    }) => {
      if (store === 'database') {
        const table = await ace(['make:session-table'])
        assert.equal(table.exitCode, 0, table.output)
        const migrated = await ace(['migration:run'])
        assert.equal(migrated.exitCode, 0, migrated.output)
      }
      const server = await startServer({ SESSION_DRIVER: store })
      cleanup(server.stop)
      const browser = new CookieClient(server.url)
      assert.equal((await browser.get('/visits')).json().visits, 1)
      assert.equal((await browser.get('/visits')).json().visits, 2)

      const saved = await browser.request('/notes', { form: { title: 'groceries' } })
      assert.equal(saved.status, 302)
      assert.equal((await browser.get('/notes')).json().notice, 'saved groceries')
      assert.isNull((await browser.get('/notes')).json().notice)
    }).skip(
      store === 'redis' && !redisUp && !IS_CI,
      `Redis is not running on ${REDIS_HOST}:${REDIS_PORT}`
    )
  }

  test("the app's ace lists, prunes and ends a user's sessions", async ({ assert, cleanup }) => {
    const server = await startServer({ SESSION_DRIVER: 'file' })
    cleanup(server.stop)
    const browser = new CookieClient(server.url)
    await browser.get('/login/42')
    assert.equal((await browser.get('/sessions/42')).json().count, 1)

    const list = await ace(['session:list', '--user=42'], { SESSION_DRIVER: 'file' })
    assert.equal(list.exitCode, 0, list.output)
    assert.include(list.output, '127.0.0.1')

    const pruned = await ace(['session:prune'], { SESSION_DRIVER: 'file' })
    assert.equal(pruned.exitCode, 0, pruned.output)
    assert.include(pruned.output, 'Removed 0 expired sessions from the "file" store')

    const destroyed = await ace(['session:destroy', '--user=42'], { SESSION_DRIVER: 'file' })
    assert.equal(destroyed.exitCode, 0, destroyed.output)
    assert.include(destroyed.output, 'Ended 1 session of user "42"')
    assert.equal((await browser.get('/sessions/42')).json().count, 0)
  })
})
