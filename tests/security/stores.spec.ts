import { test } from '@japa/runner'
import { randomBytes } from 'node:crypto'
import { readdir, utimes, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Router } from '@adonisjs/core/http'
import { defineConfig, stores } from '../../src/define_config.js'
import { generateSessionId } from '../../src/session_cookies.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { FileStore } from '../../src/stores/file.js'
import type { SessionStoreFactory } from '../../src/types.js'
import { createTestApp, CookieClient } from '../../tests_helpers/index.js'
import { lucidConfig } from '../../tests_helpers/databases.js'
import { localClientConfig } from '../../tests_helpers/dynalite.js'
import {
  assertAvailable,
  bootSecurityApp,
  COOKIE_NAME,
  sessionIdOf,
  signId,
  skipUnlessAvailable,
  storeAvailability,
  storeCases,
  temporaryFolder,
} from './helpers.js'

const SERVER_STORES = await storeCases(['memory', 'file', 'redis', 'database', 'dynamodb'])
const CORRUPTIBLE_STORES = SERVER_STORES.filter(({ name }) => name !== 'memory')
const REDIS_STORE = await storeAvailability('redis')
const DATABASE_STORE = await storeAvailability('database')
const DYNAMODB_STORE = await storeAvailability('dynamodb')

/**
 * A loopback port nobody listens on.
 */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/**
 * A custom store whose calls never answer (a dead connection without errors).
 */
function hangingStore(): SessionStoreFactory {
  const never = () => new Promise<never>(() => {})
  const store = { read: never, write: never, destroy: never, touch: never }
  return Object.assign(() => store, { shared: true })
}

/**
 * Routes that store values JSON cannot hold.
 */
function valueRoutes(router: Router) {
  const cycle: Record<string, unknown> = {}
  cycle.self = cycle
  const unstorable: Record<string, unknown> = {
    bigint: 10n,
    function: () => 1,
    symbol: Symbol('x'),
    cycle,
    nested: { deep: [1, { n: 2n }] },
  }
  router.post('/unstorable/:kind', ({ session, params }) => {
    const kind = params.kind as string
    const attempts = {
      put: () => session.put(`key_${kind}`, unstorable[kind] as any),
      putMany: () => session.put({ ok: 1, [`many_${kind}`]: unstorable[kind] as any }),
      flash: () => session.flash(`flash_${kind}`, unstorable[kind] as any),
      push: () => session.push(`list_${kind}`, unstorable[kind] as any),
    }
    const outcomes: Record<string, { code?: string; message: string }> = {}
    for (const [name, attempt] of Object.entries(attempts)) {
      try {
        attempt()
        outcomes[name] = { message: 'stored' }
      } catch (error) {
        outcomes[name] = {
          code: (error as { code?: string }).code,
          message: (error as Error).message,
        }
      }
    }
    return outcomes
  })
  router.post('/json-values', ({ session }) => {
    session.put('when', new Date(Date.UTC(2024, 0, 2, 3, 4, 5)))
    session.put('gone', 'soon')
    session.put('gone', undefined)
    session.put({ absent: undefined, present: 1, nested: { kept: 1, dropped: undefined } })
    return { ok: true }
  })
}

/**
 * The age of the R6 apps: one second where only time can expire an entry.
 */
function ageFor(store: string): number {
  return store === 'memory' || store === 'redis' ? 1 : 60
}

test.group('security | stores', () => {
  test('R1: a store call that never answers fails after storeTimeout with a 503', async ({
    assert,
    cleanup,
  }) => {
    const app = await bootSecurityApp({
      store: 'hanging',
      extraStores: { hanging: hangingStore() },
      session: { storeTimeout: 300 },
    })
    cleanup(() => app.close())
    for (const cookie of [undefined, signId(generateSessionId())]) {
      const client = app.client()
      if (cookie) client.jar.set(COOKIE_NAME, encodeURIComponent(cookie))
      const startedAt = Date.now()
      const response = await client.request('/put', {
        method: 'POST',
        body: { a: 1 },
        headers: { accept: 'application/json' },
      })
      const elapsed = Date.now() - startedAt
      assert.equal(response.status, 503)
      assert.match(
        response.text,
        /The "hanging" session store is unavailable: no answer within 300ms/
      )
      assert.isAtLeast(elapsed, 290)
      assert.isBelow(elapsed, 2000)
    }
  })

  test('R1: an unreachable Redis is a 503, never a hang', async ({ assert, cleanup }) => {
    assertAvailable(REDIS_STORE)
    const { defineConfig: defineRedisConfig } = await import('@adonisjs/redis')
    const port = await closedPort()
    const app = await createTestApp({
      session: defineConfig({
        store: 'redis',
        stores: { redis: stores.redis({ connection: 'main' }) },
        storeTimeout: 1000,
      }),
      providers: [() => import('@adonisjs/redis/redis_provider')],
      config: {
        redis: defineRedisConfig({
          connection: 'main',
          connections: { main: { host: '127.0.0.1', port, maxRetriesPerRequest: 0 } },
        }),
      },
      routes: (router) => {
        router.post('/put', ({ session }) => session.put('a', 1))
      },
    })
    cleanup(() => app.close())
    const startedAt = Date.now()
    const response = await new CookieClient(app.url).request('/put', {
      method: 'POST',
      headers: { accept: 'application/json' },
    })
    assert.equal(response.status, 503)
    assert.match(response.text, /The "redis" session store is unavailable/)
    assert.isBelow(Date.now() - startedAt, 3000)
  })
    .skip(skipUnlessAvailable(REDIS_STORE), REDIS_STORE.reason)
    .timeout(10_000)

  test('R1: an unreachable SQL server is a 503, never a hang', async ({ assert, cleanup }) => {
    assertAvailable(DATABASE_STORE)
    const app = await createTestApp({
      session: defineConfig({
        store: 'database',
        stores: { database: stores.database({ connectionName: 'postgres' }) },
        storeTimeout: 1000,
      }),
      providers: [() => import('@adonisjs/lucid/database_provider')],
      config: { database: lucidConfig('postgres', await closedPort()) },
      routes: (router) => {
        router.post('/put', ({ session }) => session.put('a', 1))
      },
    })
    cleanup(() => app.close())
    const client = new CookieClient(app.url)
    client.jar.set(COOKIE_NAME, encodeURIComponent(signId(generateSessionId())))
    const response = await client.request('/put', {
      method: 'POST',
      headers: { accept: 'application/json' },
    })
    assert.equal(response.status, 503)
    assert.match(response.text, /The "database" session store is unavailable/)
  })
    .skip(skipUnlessAvailable(DATABASE_STORE), DATABASE_STORE.reason)
    .timeout(10_000)

  test('R1: an unreachable DynamoDB is a 503, never a hang', async ({ assert, cleanup }) => {
    assertAvailable(DYNAMODB_STORE)
    const endpoint = `http://127.0.0.1:${await closedPort()}`
    const app = await createTestApp({
      session: defineConfig({
        store: 'dynamodb',
        stores: { dynamodb: stores.dynamodb({ clientConfig: localClientConfig(endpoint) }) },
        storeTimeout: 1000,
      }),
      routes: (router) => {
        router.post('/put', ({ session }) => session.put('a', 1))
      },
    })
    cleanup(() => app.close())
    const response = await new CookieClient(app.url).request('/put', {
      method: 'POST',
      headers: { accept: 'application/json' },
    })
    assert.equal(response.status, 503)
    assert.match(response.text, /The "dynamodb" session store is unavailable/)
  })
    .skip(skipUnlessAvailable(DYNAMODB_STORE), DYNAMODB_STORE.reason)
    .timeout(10_000)

  for (const { name, availability } of CORRUPTIBLE_STORES) {
    test(`R2: a corrupt payload in the ${name} store gives a fresh session and is removed`, async ({
      assert,
      cleanup,
    }) => {
      assertAvailable(availability)
      const app = await bootSecurityApp({ store: name })
      cleanup(() => app.close())
      const other = app.client()
      await other.post('/put', { other: true })
      const foreign = await app.backend.raw(sessionIdOf(other)!)
      const corruptions = ['{"message": not json', '', '[]', '{"message":null}', foreign!]
      for (const contents of corruptions) {
        const client = app.client()
        await client.post('/put', { mine: true })
        const id = sessionIdOf(client)!
        await app.backend.overwrite(id, contents)
        const response = await client.get('/read')
        assert.equal(response.status, 200)
        assert.deepEqual(response.json(), { values: {}, fresh: true }, contents)
        assert.isNull(await app.backend.raw(id), `removed: ${contents}`)
      }
    }).skip(skipUnlessAvailable(availability), availability.reason)
  }

  test('R2: a corrupt file leaves a debug line naming the session by fingerprint', async ({
    assert,
  }) => {
    const { runDebugProbe } = await import('./helpers.js')
    const { output } = await runDebugProbe()
    assert.match(output, /file store: deleting the undecodable file of session [0-9a-f]{8}/)
  }).timeout(60_000)

  test('R3: BigInt, functions, symbols and cycles are rejected at put() with the key in the message', async ({
    assert,
    cleanup,
  }) => {
    const app = await bootSecurityApp({ store: 'memory', routes: valueRoutes })
    cleanup(() => app.close())
    const client = app.client()
    for (const kind of ['bigint', 'function', 'symbol', 'cycle', 'nested']) {
      const outcomes = (await client.post(`/unstorable/${kind}`)).json()
      for (const [method, prefix] of Object.entries({
        put: 'key',
        putMany: 'many',
        flash: 'flash',
        push: 'list',
      })) {
        assert.equal(outcomes[method].code, 'E_SESSION_INVALID_VALUE', `${method} ${kind}`)
        assert.include(outcomes[method].message, `"${prefix}_${kind}"`)
      }
    }
    assert.deepEqual((await client.get('/read')).json(), { values: {}, fresh: true })
  })

  test('R3: Dates come back as ISO strings and undefined values are dropped', async ({
    assert,
    cleanup,
  }) => {
    const app = await bootSecurityApp({ store: 'file', routes: valueRoutes })
    cleanup(() => app.close())
    const client = app.client()
    await client.post('/json-values')
    assert.deepEqual((await client.get('/read')).json().values, {
      when: '2024-01-02T03:04:05.000Z',
      present: 1,
      nested: { kept: 1 },
    })
  })

  test('R4: 10,000 memory sessions created and expired leave the memory store empty', async ({
    assert,
  }) => {
    const store = new MemoryStore(1)
    for (let index = 0; index < 10_000; index++) {
      store.write(generateSessionId(), { index })
    }
    assert.equal(store.size, 10_000)
    await sleep(1100)
    const last = generateSessionId()
    store.write(last, { last: true })
    assert.equal(store.size, 1)
    store.destroy(last)
    assert.equal(store.size, 0)
  })

  test('R5: the file store writes atomically: a reader never sees a torn file', async ({
    assert,
    cleanup,
  }) => {
    const location = temporaryFolder('atomic')
    const store = new FileStore(location, 60)
    cleanup(async () => {
      const { rm } = await import('node:fs/promises')
      await rm(location, { recursive: true, force: true })
    })
    const id = generateSessionId()
    const payloads = ['a', 'b'].map((letter) => ({ blob: letter.repeat(256 * 1024) }))
    await store.write(id, payloads[0])
    const reads: unknown[] = []
    const writes: unknown[] = []
    for (let round = 0; round < 100; round++) {
      writes.push(store.write(id, payloads[round % 2]))
      reads.push(store.read(id))
    }
    await Promise.all(writes)
    const seen = await Promise.all(reads)
    const torn = seen.filter(
      (data: any) => !data || (data.blob !== payloads[0].blob && data.blob !== payloads[1].blob)
    )
    assert.lengthOf(torn, 0)
  }).timeout(30_000)

  test('R5: a collection turns 1,000 expired session files and stale temp files into 0', async ({
    assert,
    cleanup,
  }) => {
    const app = await bootSecurityApp({ store: 'file' })
    cleanup(() => app.close())
    const store = app.manager.store()
    const ids = Array.from({ length: 1000 }, () => generateSessionId())
    for (let start = 0; start < ids.length; start += 100) {
      await Promise.all(ids.slice(start, start + 100).map((id) => store.write(id, { id })))
    }
    await writeFile(join(app.location, `${ids[0]}.txt.${randomBytes(6).toString('hex')}.tmp`), '{')
    const past = new Date(Date.now() - 3 * 3600 * 1000)
    const names = (await readdir(app.location)).filter((name) => name !== '.spare')
    assert.lengthOf(names, 1001)
    await Promise.all(names.map((name) => utimes(join(app.location, name), past, past)))
    assert.isAtLeast((await app.manager.prune())!, 1001)
    assert.deepEqual(await readdir(app.location), ['.spare'])
    assert.deepEqual(await readdir(join(app.location, '.spare')), [])
  }).timeout(30_000)

  test("R5: pruning deletes only expired session files and the store's own spares, never other files", async ({
    assert,
    cleanup,
  }) => {
    const app = await bootSecurityApp({ store: 'file' })
    cleanup(() => app.close())
    const store = app.manager.store()
    const [expired, live] = [generateSessionId(), generateSessionId()]
    await store.write(expired, { a: 1 })
    await store.write(expired, { a: 2 })
    await store.write(live, { b: 1 })
    const { mkdir } = await import('node:fs/promises')
    await mkdir(join(app.location, 'uploads'), { recursive: true })
    const others = [
      'notes.txt',
      'abc.txt',
      '.gitignore',
      'backup.sqlite3',
      `${expired}.txt.bak`,
      `${'x'.repeat(70)}.txt`,
      join('uploads', `${generateSessionId()}.txt`),
      join('.spare', 'keep.me'),
    ]
    for (const name of others) {
      await writeFile(join(app.location, name), 'not a session')
    }
    const spares = await readdir(join(app.location, '.spare'))
    const past = new Date(Date.now() - 3 * 3600 * 1000)
    for (const name of [`${expired}.txt`, ...others, ...spares.map((s) => join('.spare', s))]) {
      await utimes(join(app.location, name), past, past)
    }
    assert.equal(await app.manager.prune(), 1 + spares.length - 1)
    assert.sameMembers(await readdir(app.location), [
      `${live}.txt`,
      '.spare',
      'uploads',
      'notes.txt',
      'abc.txt',
      '.gitignore',
      'backup.sqlite3',
      `${expired}.txt.bak`,
      `${'x'.repeat(70)}.txt`,
    ])
    assert.deepEqual(await readdir(join(app.location, 'uploads')), [others[6].slice(8)])
    assert.deepEqual(await readdir(join(app.location, '.spare')), ['keep.me'])
  })

  for (const { name, availability } of SERVER_STORES) {
    test(`R6: every write to the ${name} store sets an expiry and expired entries are never returned`, async ({
      assert,
      cleanup,
    }) => {
      assertAvailable(availability)
      const age = ageFor(name)
      const app = await bootSecurityApp({ store: name, session: { age } })
      cleanup(() => app.close())
      const client = app.client()
      for (const path of ['/put', '/put', '/login']) {
        await client.post(path, { step: path })
        const expiresAt = await app.backend.expiresAt(sessionIdOf(client)!)
        if (name !== 'memory') {
          assert.isNotNull(expiresAt, path)
          assert.isAbove(expiresAt!, Date.now())
          assert.isAtMost(expiresAt!, Date.now() + age * 1000 + 50)
        }
      }
      const id = sessionIdOf(client)!
      if (app.backend.expire) {
        await app.backend.expire(id)
      } else {
        await sleep(1200)
      }
      assert.isNull(await app.manager.read(id))
      assert.deepEqual((await client.get('/read')).json(), { values: {}, fresh: true })
    }).skip(skipUnlessAvailable(availability), availability.reason)
  }
})
