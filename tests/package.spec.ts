import { readdir, readFile } from 'node:fs/promises'
import { builtinModules } from 'node:module'
import { Socket } from 'node:net'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from '@japa/runner'
import { CookieClient } from '../tests_helpers/index.js'
import { PackedApps, packedTarball, type PackedTarball } from '../tests_helpers/packed_app.js'
import { APP_STORES } from '../tests_helpers/packed_app_files.js'

const REPO = fileURLToPath(new URL('../', import.meta.url))
const IS_CI = process.env.CI === 'true'
const REDIS_HOST = process.env.REDIS_HOST ?? '127.0.0.1'
const REDIS_PORT = Number(process.env.REDIS_PORT ?? 6379)

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
  let apps: PackedApps
  let tarball: PackedTarball
  let packageJson: Record<string, any>
  group.setup(async () => {
    tarball = await packedTarball()
    packageJson = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8'))
    apps = await PackedApps.create()
  })
  group.teardown(async () => {
    await apps?.close()
  })
  group.each.timeout(120_000)

  test('the tarball holds the build, the stubs and every export target', ({ assert }) => {
    const files = tarball.files
    for (const target of Object.values(packageJson.exports) as string[]) {
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
    const { dependencies = {}, peerDependencies = {} } = packageJson
    const declared = new Set([...Object.keys(dependencies), ...Object.keys(peerDependencies)])
    const build = join(apps.folders['adonis-satchel'], 'node_modules/adonis-satchel/build')
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
    const { peerDependenciesMeta = {}, exports } = packageJson
    const optional = Object.keys(peerDependenciesMeta).filter(
      (name) => peerDependenciesMeta[name].optional
    )
    const installed = join(apps.folders['adonis-satchel'], 'node_modules/adonis-satchel')
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

  test('the app type-checks against the installed package', async ({ assert }) => {
    const typecheck = await apps.typecheck()
    assert.equal(typecheck.exitCode, 0, typecheck.output)
  })

  test('every subpath loads in the app with at least the exports of @adonisjs/session', async ({
    assert,
    cleanup,
  }) => {
    const server = await apps.start('adonis-satchel', { SESSION_DRIVER: 'cookie' })
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

  for (const store of APP_STORES) {
    test(`sessions and flash messages work over HTTP on the ${store} store`, async ({
      assert,
      cleanup,
    }) => {
      if (store === 'database') {
        await apps.sessionTable()
      }
      const server = await apps.start('adonis-satchel', { SESSION_DRIVER: store })
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
    const server = await apps.start('adonis-satchel', { SESSION_DRIVER: 'file' })
    cleanup(server.stop)
    const browser = new CookieClient(server.url)
    await browser.get('/login/42')
    assert.equal((await browser.get('/sessions/42')).json().count, 1)

    const list = await apps.ace(['session:list', '--user=42'], { SESSION_DRIVER: 'file' })
    assert.equal(list.exitCode, 0, list.output)
    assert.include(list.output, '127.0.0.1')

    const pruned = await apps.ace(['session:prune'], { SESSION_DRIVER: 'file' })
    assert.equal(pruned.exitCode, 0, pruned.output)
    assert.include(pruned.output, 'Removed 0 expired sessions from the "file" store')

    const destroyed = await apps.ace(['session:destroy', '--user=42'], { SESSION_DRIVER: 'file' })
    assert.equal(destroyed.exitCode, 0, destroyed.output)
    assert.include(destroyed.output, 'Ended 1 session of user "42"')
    assert.equal((await browser.get('/sessions/42')).json().count, 0)
  })
})
