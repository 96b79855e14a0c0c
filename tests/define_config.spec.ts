import { randomBytes } from 'node:crypto'
import { test } from '@japa/runner'
import type { FileSystem } from '@japa/file-system'
import { defineConfig, stores } from '../src/define_config.js'
import { MemoryStore } from '../src/stores/memory.js'
import type { ResolvedSessionConfig, SessionStoreFactory } from '../src/types.js'
import { CookieClient, createTestApp } from '../tests_helpers/index.js'
import {
  appConfigWithCookie,
  CORE_STORES,
  sessionConfigFor,
} from '../tests_helpers/store_matrix.js'
import {
  bootAppFromConfigFiles,
  CORE_CONFIG_FILES,
  PACKAGE_ENTRY,
} from '../tests_helpers/config_files_app.js'

/**
 * A counter route: the quickest way to see a session work end to end.
 */
const visits = (router: any) =>
  router.get('/visits', ({ session }: any) => {
    session.increment('visits')
    return { visits: session.get('visits') }
  })

test.group('defineConfig | defaults', () => {
  test('resolve the same defaults as @adonisjs/session', async ({ assert, cleanup }) => {
    const { app, manager, close } = await createTestApp({
      session: defineConfig({ store: 'memory', stores: {} }),
    })
    cleanup(close)
    assert.isTrue(app.isBooted)
    assert.include(manager.config, {
      enabled: true,
      cookieName: 'adonis_session',
      clearWithBrowser: false,
      age: '2h',
      ageInSeconds: 7200,
    })
    assert.include(manager.config.cookie, { path: '/', httpOnly: true, sameSite: 'lax' })
  })

  test('send the id cookie as adonis_session with HttpOnly, SameSite=Lax, Path=/ and a 2h Max-Age', async ({
    assert,
    cleanup,
  }) => {
    const { url, close } = await createTestApp({
      session: defineConfig({ store: 'memory', stores: {} }),
      routes: visits,
    })
    cleanup(close)
    const [line] = (await new CookieClient(url).get('/visits')).setCookies
    assert.match(line, /^adonis_session=s%3A/)
    for (const attribute of ['Max-Age=7200', 'Path=/', 'HttpOnly', 'SameSite=Lax']) {
      assert.include(line.split('; '), attribute)
    }
  })

  test('accept age as a time expression or as seconds', async ({ assert, cleanup }) => {
    for (const [age, seconds] of [
      ['30 mins', 1800],
      ['1d', 86400],
      [90, 90],
    ] as const) {
      const { manager, close } = await createTestApp({
        session: defineConfig({ store: 'memory', stores: {}, age }),
      })
      cleanup(close)
      assert.equal(manager.config.ageInSeconds, seconds)
    }
  })

  test('use the age as the Max-Age of the id cookie', async ({ assert, cleanup }) => {
    const { url, close } = await createTestApp({
      session: defineConfig({ store: 'memory', stores: {}, age: '45 mins' }),
      routes: visits,
    })
    cleanup(close)
    const [line] = (await new CookieClient(url).get('/visits')).setCookies
    assert.include(line.split('; '), 'Max-Age=2700')
  })

  test('use cookieName and cookie options from the config', async ({ assert, cleanup }) => {
    const { url, close } = await createTestApp({
      session: defineConfig({
        store: 'memory',
        stores: {},
        cookieName: 'my_app_session',
        cookie: { path: '/app', sameSite: 'strict', domain: 'example.com' },
      }),
      routes: visits,
    })
    cleanup(close)
    const [line] = (await new CookieClient(url).get('/visits')).setCookies
    assert.match(line, /^my_app_session=/)
    for (const attribute of ['Path=/app', 'SameSite=Strict', 'Domain=example.com', 'HttpOnly']) {
      assert.include(line.split('; '), attribute)
    }
  })

  test('keep the id cookie without Max-Age or Expires with clearWithBrowser, whatever the app cookie defaults say', async ({
    assert,
    cleanup,
  }) => {
    for (const store of CORE_STORES) {
      const { session, cleanup: removeFiles } = sessionConfigFor(store, { clearWithBrowser: true })
      cleanup(removeFiles)
      const { url, close } = await createTestApp({
        session,
        config: { app: appConfigWithCookie({ maxAge: '2h' }) },
        routes: visits,
      })
      cleanup(close)
      const response = await new CookieClient(url).get('/visits')
      assert.lengthOf(response.setCookies, store === 'cookie' ? 2 : 1)
      for (const line of response.setCookies) {
        assert.notMatch(line, /max-age|expires/i, `${store}: ${line}`)
      }
    }
  })
})

test.group('defineConfig | stores', () => {
  test('always offer the memory store, even when stores does not list it', async ({
    assert,
    cleanup,
  }) => {
    const { url, manager, close } = await createTestApp({
      session: defineConfig({ store: 'memory', stores: { cookie: stores.cookie() } }),
      routes: visits,
    })
    cleanup(close)
    assert.sameMembers(Object.keys(manager.config.stores), ['cookie', 'memory'])
    const client = new CookieClient(url)
    await client.get('/visits')
    assert.equal((await client.get('/visits')).json().visits, 2)
    assert.instanceOf(manager.use('memory').store(), MemoryStore)
  })

  test('call a custom store factory with the context and the resolved config', async ({
    assert,
    cleanup,
  }) => {
    const seen: { age?: unknown; ageInSeconds?: number; path?: string }[] = []
    const backing = new MemoryStore(600)
    const custom: SessionStoreFactory = (ctx, config: ResolvedSessionConfig) => {
      seen.push({ age: config.age, ageInSeconds: config.ageInSeconds, path: ctx.request.url() })
      return backing
    }
    const { url, close } = await createTestApp({
      session: defineConfig({ store: 'custom', stores: { custom }, age: '10m' }),
      routes: visits,
    })
    cleanup(close)
    const client = new CookieClient(url)
    await client.get('/visits')
    assert.equal((await client.get('/visits')).json().visits, 2)
    assert.deepEqual(seen[0], { age: '10m', ageInSeconds: 600, path: '/visits' })
  })

  test('create a shared built-in store once and reuse it across requests', async ({
    assert,
    cleanup,
  }) => {
    const { session, cleanup: removeFiles } = sessionConfigFor('file')
    const { url, manager, close } = await createTestApp({ session, routes: visits })
    cleanup(close)
    cleanup(removeFiles)
    const before = manager.store()
    const client = new CookieClient(url)
    await client.get('/visits')
    await client.get('/visits')
    assert.strictEqual(manager.store(), before)
  })
})

test.group('defineConfig | checked at boot', (group) => {
  group.each.timeout(20_000)

  /**
   * Write an app whose `config/session.js` holds `body`, then boot it. Each app
   * gets its own folder: ES modules are cached by path.
   */
  async function bootWith(fs: FileSystem, body: string) {
    const root = `app_${randomBytes(6).toString('hex')}`
    for (const [path, contents] of Object.entries(CORE_CONFIG_FILES)) {
      await fs.create(`${root}/${path}`, contents)
    }
    await fs.create(
      `${root}/config/session.js`,
      `import { defineConfig, stores } from '${PACKAGE_ENTRY}'\n${body}`
    )
    return bootAppFromConfigFiles(new URL(`${root}/`, fs.baseUrl))
  }

  test('boot an app whose config/session file is valid', async ({ assert, fs, cleanup }) => {
    const app = await bootWith(
      fs,
      `export default defineConfig({ store: 'cookie', stores: { cookie: stores.cookie() } })`
    )
    cleanup(() => app.terminate())
    assert.isTrue(app.isBooted)
    assert.equal((await app.container.make('session.manager')).storeName, 'cookie')
  })

  test('fail the boot on an unknown store name, naming it and the valid choices', async ({
    assert,
    fs,
  }) => {
    await assert.rejects(
      () =>
        bootWith(
          fs,
          `export default defineConfig({ store: 'redis', stores: { cookie: stores.cookie() } })`
        ),
      'Invalid session config in "config/session.ts": "store" is "redis", which is not a configured store. Choose one of: "cookie", "memory"'
    )
  })

  test('fail the boot on a stores entry that is not a factory', async ({ assert, fs }) => {
    await assert.rejects(
      () =>
        bootWith(fs, `export default defineConfig({ store: 'cookie', stores: { cookie: 'yes' } })`),
      /"stores\.cookie" is not a store factory\. Use a helper such as "stores\.file\(\{ location \}\)" or a function/
    )
  })

  test('fail the boot on a store config provider that resolves to something else than a factory', async ({
    assert,
    fs,
  }) => {
    await assert.rejects(
      () =>
        bootWith(
          fs,
          [
            `import { configProvider } from '@adonisjs/core'`,
            `export default defineConfig({ store: 'custom', stores: { custom: configProvider.create(async () => 42) } })`,
          ].join('\n')
        ),
      /"stores\.custom" resolved to number, not a store factory/
    )
  })

  test('fail the boot on an unparsable age, naming the value and the accepted forms', async ({
    assert,
    fs,
  }) => {
    await assert.rejects(
      () =>
        bootWith(
          fs,
          `export default defineConfig({ store: 'cookie', age: 'two hours', stores: { cookie: stores.cookie() } })`
        ),
      `Invalid session config in "config/session.ts": "age" is "two hours", which is not a duration. Use a time expression such as '2h' or '30 mins', or a number of seconds`
    )
  })

  test('fail the boot when config/session does not use defineConfig', async ({ assert, fs }) => {
    await assert.rejects(
      () => bootWith(fs, `export default { store: 'cookie', stores: {} }`),
      /the file must export the result of "defineConfig\(\)" from "adonis-satchel"/
    )
  })
})

test.group('defineConfig | flashed input', () => {
  const base = { store: 'memory' as const, stores: {} }

  test('default to 8kb per field and 32kb in total, secret-looking fields left out', async ({
    assert,
    cleanup,
  }) => {
    const { manager, close } = await createTestApp({ session: defineConfig(base) })
    cleanup(close)
    assert.deepEqual(manager.config.flashInputLimitsInBytes, { field: 8192, total: 32768 })
    assert.isTrue(manager.config.detectSecretFields)
  })

  test('accept flashInputLimits as bytes or sizes', async ({ assert, cleanup }) => {
    const session = defineConfig({ ...base, flashInputLimits: { field: '1kb', total: 4096 } })
    const { manager, close } = await createTestApp({ session })
    cleanup(close)
    assert.deepEqual(manager.config.flashInputLimitsInBytes, { field: 1024, total: 4096 })
  })

  test('fail on a flashInputLimits size that is not a positive size, naming it', ({ assert }) => {
    for (const [limits, property, value] of [
      [{ field: 'lots' }, 'field', 'lots'],
      [{ total: 0 }, 'total', '0'],
      [{ total: -5 }, 'total', '-5'],
      [{ field: true }, 'field', 'true'],
    ] as const) {
      assert.throws(
        () => defineConfig({ ...base, flashInputLimits: limits as any }),
        `Invalid session config in "config/session.ts": "flashInputLimits.${property}" is "${value}", which is not a size. Use a positive whole number of bytes or a size such as '8kb'`
      )
    }
  })

  test('fail on flashInputLimits that is not an object, or a field limit over the total', ({
    assert,
  }) => {
    assert.throws(
      () => defineConfig({ ...base, flashInputLimits: '8kb' as any }),
      `Invalid session config in "config/session.ts": "flashInputLimits" must be an object such as { field: '8kb', total: '32kb' }, received "8kb"`
    )
    assert.throws(
      () => defineConfig({ ...base, flashInputLimits: { field: '64kb' } }),
      `Invalid session config in "config/session.ts": "flashInputLimits.field" (65536 bytes) is more than "flashInputLimits.total" (32768 bytes). Raise the total or lower the field limit`
    )
  })

  test('fail on a detectSecretFields that is not a boolean', ({ assert }) => {
    assert.throws(
      () => defineConfig({ ...base, detectSecretFields: 'yes' as any }),
      `Invalid session config in "config/session.ts": "detectSecretFields" must be true or false, received "yes"`
    )
  })
})

test.group('defineConfig | cache budgets', () => {
  test('refuse a cacheBytes that is not a whole number of bytes, naming the helper', ({
    assert,
  }) => {
    for (const cacheBytes of [-1, 1.5, '16mb', Number.POSITIVE_INFINITY]) {
      assert.throws(
        () => stores.file({ location: 'sessions', cacheBytes: cacheBytes as number }),
        `Invalid session config in "config/session.ts": "stores.file({ cacheBytes })" is "${cacheBytes}": use a whole number of bytes, e.g. 16 * 1024 * 1024, or 0 to cache nothing`
      )
      assert.throws(
        () => stores.redis({ connection: 'main', cacheBytes: cacheBytes as number }),
        `Invalid session config in "config/session.ts": "stores.redis({ cacheBytes })" is "${cacheBytes}": use a whole number of bytes, e.g. 16 * 1024 * 1024, or 0 to cache nothing`
      )
    }
  })

  test('accept 0 and whole numbers of bytes', ({ assert }) => {
    assert.doesNotThrow(() => stores.file({ location: 'sessions', cacheBytes: 0 }))
    assert.doesNotThrow(() => stores.redis({ connection: 'main', cacheBytes: 1024 }))
  })
})

test.group('defineConfig | auth', () => {
  test('accept auth.tagSessions with or without a list of guards', ({ assert }) => {
    for (const auth of [{ tagSessions: true }, { tagSessions: false, guards: ['web', 'admin'] }]) {
      assert.doesNotThrow(() => defineConfig({ store: 'memory', stores: {}, auth }))
    }
  })

  test('refuse an auth option that is not { tagSessions, guards? }, showing what it got', ({
    assert,
  }) => {
    const cases: [unknown, string][] = [
      [true, '"auth" must be an object such as { tagSessions: true }, received true'],
      [null, '"auth" must be an object such as { tagSessions: true }, received null'],
      [{ tagSessions: 'yes' }, 'received {"tagSessions":"yes"}'],
      [
        { tagSessions: true, guards: [] },
        '"auth.guards" must list session guard names of "config/auth.ts" (e.g. [\'web\']), received []',
      ],
      [{ tagSessions: true, guards: 'web' }, '"auth.guards" must list session guard names'],
      [{ tagSessions: true, guards: [''] }, 'received [""]'],
    ]
    for (const [auth, message] of cases) {
      let thrown: { code?: string; message?: string } = {}
      try {
        defineConfig({ store: 'memory', stores: {}, auth: auth as any })
      } catch (error) {
        thrown = error as typeof thrown
      }
      assert.equal(thrown.code, 'E_INVALID_SESSION_CONFIG', JSON.stringify(auth))
      assert.include(thrown.message, message)
    }
  })
})
