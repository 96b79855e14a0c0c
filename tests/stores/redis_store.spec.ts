import { test } from '@japa/runner'
import { randomUUID } from 'node:crypto'
import { configProvider } from '@adonisjs/core'
import { defineConfig as defineRedisConfig, RedisClusterConnection } from '@adonisjs/redis'
import type { RedisConnectionConfig } from '@adonisjs/redis/types'
import { Redis } from 'ioredis'
import { newSessionId, storeConformanceSuite } from '../../factories/store_conformance.js'
import { defineConfig, stores } from '../../index.js'
import { encodePayload, METADATA_KEY, snapshotOf } from '../../src/payload.js'
import { RedisStore } from '../../src/stores/redis.js'
import { RedisLocalCache } from '../../src/stores/redis_local_cache.js'
import type { SessionChanges } from '../../src/types.js'
import { CookieClient, createTestApp } from '../../tests_helpers/index.js'
import {
  canStartRedisServers,
  redisAnswers,
  sharedRedis,
  startRedisCluster,
  startRedisServer,
  type PrivateRedisCluster,
} from '../../tests_helpers/redis_server.js'

/**
 * The official package, imported by a specifier TypeScript does not follow (its
 * `ctx.session` augmentation would clash with ours).
 */
const OFFICIAL_PACKAGE: string = 'adonisjs-session-official'

/**
 * Connection options that make commands fail at once while Redis is down,
 * instead of waiting in the offline queue (the README recommends them).
 */
const FAST_FAILURE: RedisConnectionConfig = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  connectTimeout: 1000,
  retryStrategy: (times) => Math.min(times * 50, 500),
}

const sharedRedisUp = await redisAnswers(sharedRedis.host, sharedRedis.port)
const runPrefix = `satchel-test:${randomUUID()}:`

/**
 * Why a test cannot run on this machine, or undefined. Under CI=true nothing
 * is skipped: a missing service fails the tests instead.
 */
function missing(needs: { sharedRedis?: boolean; redisServers?: boolean }): string | undefined {
  if (process.env.CI === 'true') {
    return undefined
  }
  if (needs.sharedRedis && !sharedRedisUp) {
    return `SKIPPED: no Redis at ${sharedRedis.host}:${sharedRedis.port} (set REDIS_HOST/REDIS_PORT)`
  }
  if (needs.redisServers && !canStartRedisServers) {
    return 'SKIPPED: redis-server and redis-cli are not installed, private Redis servers cannot start'
  }
}

for (const reason of new Set([missing({ sharedRedis: true }), missing({ redisServers: true })])) {
  if (reason) console.warn(`\n  RedisStore tests: ${reason}\n`)
}

/** A client of the shared Redis that does not log connection errors. */
function sharedClient(): Redis {
  const client = new Redis({ ...sharedRedis, maxRetriesPerRequest: 1 })
  client.on('error', () => {})
  return client
}

/** Delete every key that matches a pattern on one Redis node. */
async function deleteMatching(client: Redis, pattern: string) {
  let cursor = '0'
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 500)
    cursor = next
    for (const key of keys) await client.del(key)
  } while (cursor !== '0')
}

function changes(partial: Partial<SessionChanges>): SessionChanges {
  return { set: {}, unset: [], cleared: false, ...partial }
}

/** Call counts per command since the last CONFIG RESETSTAT (admin commands left out). */
async function commandCounts(admin: Redis): Promise<Record<string, number>> {
  const counts: Record<string, number> = {}
  for (const line of (await admin.info('commandstats')).split('\n')) {
    const match = line.match(/^cmdstat_([^:]+):calls=(\d+)/)
    if (match && !['info', 'config|resetstat', 'config'].includes(match[1])) {
      counts[match[1]] = Number(match[2])
    }
  }
  return counts
}

/* The shared conformance suite against a standalone Redis. */
const conformanceClients = new Map<RedisStore, Redis>()
if (missing({ sharedRedis: true })) {
  test.group('RedisStore | store conformance', () => {
    test('run the store conformance suite').skip(true, missing({ sharedRedis: true }))
  })
} else {
  for (const localCache of [false, true]) {
    storeConformanceSuite({
      name: localCache ? 'RedisStore with the local cache' : 'RedisStore',
      async createStore(age) {
        const client = sharedClient()
        const store = new RedisStore(client, age, runPrefix, { localCache })
        conformanceClients.set(store, client)
        if (localCache) await untilLocalCacheIsOn(client)
        return store
      },
      async cleanup(store) {
        const client = conformanceClients.get(store)!
        conformanceClients.delete(store)
        await deleteMatching(client, `${runPrefix}*`)
        client.disconnect()
      },
      tagging: true,
      merge: true,
    })
  }
}

test.group('RedisStore', (group) => {
  const reason = missing({ sharedRedis: true })
  let client: Redis
  group.setup(() => {
    if (reason) return
    client = sharedClient()
    return async () => {
      await deleteMatching(client, `${runPrefix}*`)
      client.disconnect()
    }
  })
  group.each.teardown(async () => {
    if (!reason) await deleteMatching(client, `${runPrefix}*`)
  })

  test('store a session under its bare id by default, as @adonisjs/session does', async ({
    assert,
    cleanup,
  }) => {
    const store = new RedisStore(client, 60)
    const id = newSessionId()
    cleanup(async () => {
      await client.del(id)
    })
    await store.write(id, { a: 1 })
    assert.equal(await client.get(id), encodePayload(id, { a: 1 }))
    assert.equal(await client.get(id), `{"message":{"a":1},"purpose":"${id}"}`)
  }).skip(!!reason, reason)

  test('put the prefix in front of session keys and tag keys', async ({ assert }) => {
    const store = new RedisStore(client, 60, runPrefix)
    const id = newSessionId()
    await store.write(id, { a: 1 })
    await store.tag(id, 42)
    assert.equal(store.keyOf(id), `${runPrefix}${id}`)
    assert.isNotNull(await client.get(`${runPrefix}${id}`))
    assert.deepEqual(await client.smembers(`${runPrefix}session_tag:42`), [id])
  }).skip(!!reason, reason)

  test('set the ttl to the age on write, merge, read and touch', async ({ assert }) => {
    const store = new RedisStore(client, 300, runPrefix)
    const id = newSessionId()
    const key = store.keyOf(id)
    await store.write(id, { a: 1 })
    assert.closeTo(await client.ttl(key), 300, 2)
    await client.expire(key, 5)
    const data = await store.read(id)
    assert.closeTo(await client.ttl(key), 300, 2)
    await client.expire(key, 5)
    await store.touch(id)
    assert.closeTo(await client.ttl(key), 300, 2)
    await client.expire(key, 5)
    await store.merge(id, changes({ set: { b: 2 } }), snapshotOf(data))
    assert.closeTo(await client.ttl(key), 300, 2)
  }).skip(!!reason, reason)

  test('connect a lazy connection before its first command, even without offline queue', async ({
    assert,
    cleanup,
  }) => {
    const lazy = new Redis({ ...sharedRedis, lazyConnect: true, enableOfflineQueue: false })
    cleanup(() => lazy.disconnect())
    const store = new RedisStore(lazy, 60, runPrefix)
    const id = newSessionId()
    await store.write(id, { a: 1 })
    assert.deepEqual(await store.read(id), { a: 1 })
  }).skip(!!reason, reason)

  test('declare that read refreshes the ttl, so sessions skip touch', ({ assert }) => {
    assert.isTrue(new RedisStore(client, 60).touchesOnRead)
  }).skip(!!reason, reason)

  test('peek at a session without refreshing its ttl (readonly sessions)', async ({ assert }) => {
    const store = new RedisStore(client, 600, runPrefix)
    const id = newSessionId()
    await store.write(id, { a: 1 })
    await client.expire(store.keyOf(id), 100)
    assert.deepEqual(await store.peek(id), { a: 1 })
    assert.isAtMost(await client.ttl(store.keyOf(id)), 100)
    assert.isNull(await store.peek(newSessionId()))
    await store.read(id)
    assert.isAbove(await client.ttl(store.keyOf(id)), 500)
  }).skip(!!reason, reason)

  test('delete an undecodable payload and read it as no session', async ({ assert }) => {
    const store = new RedisStore(client, 60, runPrefix)
    const [garbage, foreign] = [newSessionId(), newSessionId()]
    await client.set(store.keyOf(garbage), 'not json')
    await client.set(store.keyOf(foreign), encodePayload(newSessionId(), { a: 1 }))
    assert.isNull(await store.read(garbage))
    assert.isNull(await store.read(foreign))
    assert.equal(await client.exists(store.keyOf(garbage), store.keyOf(foreign)), 0)
  }).skip(!!reason, reason)

  test('copy a session read again unchanged, and see another process write it at once', async ({
    assert,
  }) => {
    const store = new RedisStore(client, 60, runPrefix)
    const theirs = new RedisStore(sharedClient(), 60, runPrefix)
    const id = newSessionId()
    await theirs.write(id, { cart: [1] })
    const reads = [await store.read(id), await store.read(id), await store.read(id)]
    for (const data of reads) assert.deepEqual(data, { cart: [1] })
    assert.equal(new Set(reads.map((data) => data!.cart)).size, 3)
    await theirs.write(id, { cart: [1, 2] })
    assert.deepEqual(await store.read(id), { cart: [1, 2] })
    await client.set(store.keyOf(id), encodePayload(id, { cart: [3] }))
    assert.deepEqual(await store.read(id), { cart: [3] })
    await theirs.destroy(id)
    assert.isNull(await store.read(id))
  }).skip(!!reason, reason)

  test('keep the decoded data of sessions read again within cacheBytes, none of those only written', async ({
    assert,
  }) => {
    const store = new RedisStore(client, 60, runPrefix, { cacheBytes: 200_000 })
    const ids = Array.from({ length: 60 }, () => newSessionId())
    for (const id of ids) await store.write(id, { text: 'x'.repeat(5000) })
    assert.equal(store.cachedBytes, 0)
    for (const id of ids) {
      await store.read(id)
      await store.read(id)
      assert.isAtMost(store.cachedBytes, 200_000)
    }
    assert.isAbove(store.cachedBytes, 100_000)
  }).skip(!!reason, reason)

  test('merge on top of a change another request made after this one read', async ({ assert }) => {
    const store = new RedisStore(client, 60, runPrefix)
    const id = newSessionId()
    await store.write(id, { a: 1 })
    const snapshot = snapshotOf(await store.read(id))
    await new RedisStore(sharedClient(), 60, runPrefix).write(id, { a: 1, other: 'request' })
    await store.merge(id, changes({ set: { mine: true }, unset: ['a'] }), snapshot)
    assert.deepEqual(await store.read(id), { other: 'request', mine: true })
  }).skip(!!reason, reason)

  test('keep every change when several processes merge into one session at once', async ({
    assert,
  }) => {
    const clients = Array.from({ length: 5 }, () => sharedClient())
    const processes = clients.map((each) => new RedisStore(each, 60, runPrefix))
    const id = newSessionId()
    await processes[0].write(id, { base: 0 })
    const snapshot = snapshotOf(await processes[0].read(id))
    await Promise.all(
      Array.from({ length: 30 }, (_, index) =>
        processes[index % 5].merge(id, changes({ set: { [`k${index}`]: index } }), snapshot)
      )
    )
    const data = (await processes[0].read(id))!
    clients.forEach((each) => each.disconnect())
    assert.lengthOf(Object.keys(data), 31)
    assert.equal(data.k29, 29)
  }).skip(!!reason, reason)

  test('merge without a snapshot against what is stored now', async ({ assert }) => {
    const store = new RedisStore(client, 60, runPrefix)
    const id = newSessionId()
    await store.write(id, { a: 1 })
    await store.merge(id, changes({ set: { b: 2 } }))
    assert.deepEqual(await store.read(id), { a: 1, b: 2 })
  }).skip(!!reason, reason)

  test('keep the tag set in the official format: session_tag:<userId> holds ids', async ({
    assert,
    cleanup,
  }) => {
    const store = new RedisStore(client, 60)
    const [id, user] = [newSessionId(), `user-${randomUUID()}`]
    cleanup(async () => {
      await client.del(id, `session_tag:${user}`)
    })
    await store.write(id, { a: 1 })
    await store.tag(id, user)
    assert.deepEqual(await client.smembers(`session_tag:${user}`), [id])
    assert.equal(((await store.read(id))![METADATA_KEY] as any).userId, user)
  }).skip(!!reason, reason)

  test('remove a destroyed session from its user tag set', async ({ assert }) => {
    const store = new RedisStore(client, 60, runPrefix)
    const id = newSessionId()
    await store.write(id, { a: 1 })
    await store.tag(id, 7)
    await store.destroy(id)
    assert.equal(await client.exists(store.keyOf(id)), 0)
    assert.deepEqual(await client.smembers(store.tagKeyOf(7)), [])
  }).skip(!!reason, reason)

  test('add a written session whose metadata names a user to that user tag set', async ({
    assert,
  }) => {
    const store = new RedisStore(client, 60, runPrefix)
    const id = newSessionId()
    await store.write(id, { [METADATA_KEY]: { createdAt: 1, lastSeenAt: 1, userId: '9' } })
    assert.deepEqual(await client.smembers(store.tagKeyOf(9)), [id])
  }).skip(!!reason, reason)

  test('move a session to the new user when it is tagged again', async ({ assert }) => {
    const store = new RedisStore(client, 60, runPrefix)
    const id = newSessionId()
    await store.write(id, { a: 1 })
    await store.tag(id, 'alice')
    await store.tag(id, 'bob')
    assert.deepEqual(await client.smembers(store.tagKeyOf('alice')), [])
    assert.deepEqual(
      (await store.tagged('bob')).map((session) => session.id),
      [id]
    )
  }).skip(!!reason, reason)

  test('drop ended sessions from the tag set while listing', async ({ assert }) => {
    const store = new RedisStore(client, 60, runPrefix)
    const [live, ended] = [newSessionId(), newSessionId()]
    await store.write(live, { a: 1 })
    await store.tag(live, 'carol')
    await client.sadd(store.tagKeyOf('carol'), ended)
    assert.deepEqual(
      (await store.tagged('carol')).map((session) => session.id),
      [live]
    )
    assert.deepEqual(await client.smembers(store.tagKeyOf('carol')), [live])
  }).skip(!!reason, reason)

  test('prune the ids of ended sessions from every tag set', async ({ assert }) => {
    const store = new RedisStore(client, 60, runPrefix)
    const live = newSessionId()
    await store.write(live, { a: 1 })
    await store.tag(live, 'dave')
    await client.sadd(store.tagKeyOf('dave'), newSessionId(), newSessionId())
    await client.sadd(store.tagKeyOf('erin'), newSessionId())
    assert.equal(await store.prune(), 3)
    assert.deepEqual(await client.smembers(store.tagKeyOf('dave')), [live])
    assert.equal(await client.exists(store.tagKeyOf('erin')), 0)
  }).skip(!!reason, reason)

  test('prune through a connection that adds its own keyPrefix', async ({ assert, cleanup }) => {
    const prefixed = new Redis({ ...sharedRedis, keyPrefix: `${runPrefix}connection:` })
    cleanup(() => prefixed.disconnect())
    const store = new RedisStore(prefixed, 60, 'store:')
    await prefixed.sadd(store.tagKeyOf('gina'), newSessionId())
    assert.equal(await client.scard(`${runPrefix}connection:store:session_tag:gina`), 1)
    assert.equal(await store.prune(), 1)
    assert.equal(await client.exists(`${runPrefix}connection:store:session_tag:gina`), 0)
  }).skip(!!reason, reason)
})

test.group('RedisStore | round trips', (group) => {
  const reason = missing({ redisServers: true })
  let admin: Redis
  let store: RedisStore
  group.setup(async () => {
    if (reason) return () => {}
    const server = await startRedisServer()
    admin = new Redis({ port: server.port, host: server.host })
    const storeClient = new Redis({ port: server.port, host: server.host })
    store = new RedisStore(storeClient, 60, '', { localCache: false })
    /* The first merge on a new server loads the script (EVAL after NOSCRIPT). */
    const warmUp = newSessionId()
    await store.write(warmUp, {})
    await store.merge(warmUp, changes({ set: { a: 1 } }), snapshotOf(await store.read(warmUp)))
    return async () => {
      admin.disconnect()
      storeClient.disconnect()
      await server.stop()
    }
  })
  group.each.setup(async () => {
    if (!reason) await admin.config('RESETSTAT')
  })

  test('without the local cache, read with one GETEX and touch with one EXPIRE', async ({
    assert,
  }) => {
    const id = newSessionId()
    await store.write(id, { a: 1 })
    await admin.config('RESETSTAT')
    await store.read(id)
    assert.deepEqual(await commandCounts(admin), { getex: 1 })
    await admin.config('RESETSTAT')
    await store.touch(id)
    assert.deepEqual(await commandCounts(admin), { expire: 1 })
  }).skip(!!reason, reason)

  test('without the local cache, write with one SET', async ({ assert }) => {
    await store.write(newSessionId(), { a: 1 })
    assert.deepEqual(await commandCounts(admin), { set: 1 })
  }).skip(!!reason, reason)

  test('without the local cache, merge with one script call when nothing changed since the read', async ({
    assert,
  }) => {
    const id = newSessionId()
    await store.write(id, { a: 1 })
    const data = await store.read(id)
    await admin.config('RESETSTAT')
    await store.merge(id, changes({ set: { b: 2 } }), snapshotOf(data))
    /* GET and SET are the script's own calls inside Redis, not round trips. */
    assert.deepEqual(await commandCounts(admin), { evalsha: 1, get: 1, set: 1 })
  }).skip(!!reason, reason)

  test('store the merges that wait behind one in flight together, keeping every change', async ({
    assert,
  }) => {
    const id = newSessionId()
    await store.write(id, { a: 1 })
    await store.merge(id, changes({ set: { warm: true } }), snapshotOf(await store.read(id)))
    const data = await store.read(id)
    await admin.config('RESETSTAT')
    /* One compare-and-swap for the first merge, one for the nine queued behind it. */
    await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        store.merge(id, changes({ set: { [`key${index}`]: index } }), snapshotOf(data))
      )
    )
    assert.deepEqual(await commandCounts(admin), { evalsha: 2, get: 2, set: 2 })
    const stored = await store.read(id)
    for (let index = 0; index < 10; index++) assert.equal(stored![`key${index}`], index)
    assert.equal(stored!.a, 1)
  }).skip(!!reason, reason)

  test('load the script again when redis lost its script cache', async ({ assert }) => {
    const id = newSessionId()
    await store.write(id, { a: 1 })
    const data = await store.read(id)
    await admin.script('FLUSH')
    await admin.config('RESETSTAT')
    await store.merge(id, changes({ set: { b: 2 } }), snapshotOf(data))
    assert.deepEqual(await commandCounts(admin), { evalsha: 1, eval: 1, get: 1, set: 1 })
    assert.deepEqual(await store.read(id), { a: 1, b: 2 })
  }).skip(!!reason, reason)

  test('send one command per request on the hot path of a real app', async ({
    assert,
    cleanup,
  }) => {
    const server = await startRedisServer()
    cleanup(() => server.stop())
    const app = await createRedisApp(server, (router) => {
      router.get('/read', ({ session }) => session.all())
      router.post('/write', ({ session }) => session.put('n', Date.now()))
    })
    cleanup(() => app.close())
    const serverAdmin = new Redis({ port: server.port })
    cleanup(() => serverAdmin.disconnect())
    const browser = new CookieClient(app.url)
    await browser.post('/write')
    await browser.post('/write')
    await serverAdmin.config('RESETSTAT')
    assert.equal((await browser.get('/read')).status, 200)
    assert.deepEqual(await commandCounts(serverAdmin), { getex: 1 })
    await serverAdmin.config('RESETSTAT')
    assert.equal((await browser.post('/write')).status, 200)
    assert.deepEqual(await commandCounts(serverAdmin), { getex: 1, evalsha: 1, get: 1, set: 1 })
  }).skip(!!reason, reason)

  test('with the local cache, send no command for a read and one round trip for a write', async ({
    assert,
    cleanup,
  }) => {
    const server = await startRedisServer()
    cleanup(() => server.stop())
    const app = await createRedisApp(
      server,
      (router) => {
        router.get('/read', ({ session }) => session.all())
        router.post('/write', ({ session }) => session.put('n', Date.now()))
      },
      { localCache: true }
    )
    cleanup(() => app.close())
    await untilLocalCacheIsOn(await appRedisClient(app.app))
    const serverAdmin = new Redis({ port: server.port })
    cleanup(() => serverAdmin.disconnect())
    const browser = new CookieClient(app.url)
    /* A new session, then a merge that loads the script (EVAL after NOSCRIPT), then a cached one. */
    await browser.post('/write')
    await browser.post('/write')
    await browser.post('/write')
    await serverAdmin.config('RESETSTAT')
    assert.equal((await browser.get('/read')).status, 200)
    assert.deepEqual(await commandCounts(serverAdmin), {})
    await serverAdmin.config('RESETSTAT')
    assert.equal((await browser.post('/write')).status, 200)
    /* One round trip: CLIENT CACHING, then the script (its GET, SET and final GET run inside Redis). */
    assert.deepEqual(await commandCounts(serverAdmin), {
      'evalsha': 1,
      'client|caching': 1,
      'get': 2,
      'set': 1,
    })
  }).skip(!!reason, reason)
})

/** The ioredis client of the "main" connection of a test app. */
async function appRedisClient(app: { container: { make(name: string): Promise<any> } }) {
  const redis = await app.container.make('redis')
  return redis.connection('main').ioConnection as Redis
}

/** Wait (at most 3 s) until Redis tracks keys for a client's local cache. */
async function untilLocalCacheIsOn(client: Redis) {
  const deadline = Date.now() + 3000
  if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve))
  while (!RedisLocalCache.of(client).active) {
    if (Date.now() > deadline) throw new Error('The local cache did not turn on within 3 s')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

test.group('RedisStore | local cache', (group) => {
  const reason = missing({ redisServers: true })
  let server: Awaited<ReturnType<typeof startRedisServer>>
  let admin: Redis
  const clients: Redis[] = []
  function client() {
    const created = new Redis({ port: server.port, host: server.host, maxRetriesPerRequest: 1 })
    created.on('error', () => {})
    clients.push(created)
    return created
  }
  /** A store with the local cache on, on a new client, once Redis tracks its keys. */
  async function cachedStore(age: number) {
    const ours = client()
    await untilLocalCacheIsOn(ours)
    return new RedisStore(ours, age, '', { localCache: true })
  }
  group.setup(async () => {
    if (reason) return () => {}
    server = await startRedisServer()
    admin = new Redis({ port: server.port, host: server.host })
    return async () => {
      admin.disconnect()
      await server.stop()
    }
  })
  group.each.setup(() => {
    return () => {
      for (const created of clients.splice(0)) created.disconnect()
    }
  })

  test('read a cached session with no round trip, and see another process write at once', async ({
    assert,
  }) => {
    const store = await cachedStore(60)
    const theirs = new RedisStore(client(), 60, '', { localCache: false })
    const id = newSessionId()
    await theirs.write(id, { by: 'them' })
    assert.deepEqual(await store.read(id), { by: 'them' })
    await admin.config('RESETSTAT')
    assert.deepEqual(await store.read(id), { by: 'them' })
    assert.deepEqual(await commandCounts(admin), {})
    await theirs.write(id, { by: 'them, later' })
    await admin.ping()
    assert.deepEqual(await store.read(id), { by: 'them, later' })
    await theirs.destroy(id)
    await admin.ping()
    assert.isNull(await store.read(id))
  }).skip(!!reason, reason)

  test('keep the local cache within its byte budget, holding nothing of sessions only written', async ({
    assert,
  }) => {
    const ours = client()
    const cache = RedisLocalCache.of(ours, 100_000)
    await untilLocalCacheIsOn(ours)
    const store = new RedisStore(ours, 60, '', { localCache: true, cacheBytes: 100_000 })
    const ids = Array.from({ length: 40 }, () => newSessionId())
    for (const id of ids) await store.write(id, { text: 'x'.repeat(5000) })
    assert.equal(cache.bytes, 0)
    for (const id of ids) {
      assert.deepEqual(await store.read(id), { text: 'x'.repeat(5000) })
      assert.isAtMost(cache.bytes, 100_000)
    }
    assert.isAbove(cache.bytes, 50_000)
  }).skip(!!reason, reason)

  test('keep a session cached, with its new data, after this process merged into it', async ({
    assert,
  }) => {
    const store = await cachedStore(60)
    const id = newSessionId()
    await store.write(id, { a: 0 })
    /* The first merge on this server loads the script (EVAL after NOSCRIPT). */
    await store.merge(id, changes({ set: { a: 1 } }), snapshotOf(await store.read(id)))
    const data = await store.read(id)
    await store.merge(id, changes({ set: { b: 2 } }), snapshotOf(data))
    await admin.config('RESETSTAT')
    assert.deepEqual(await store.read(id), { a: 1, b: 2 })
    assert.deepEqual(await commandCounts(admin), {})
    const theirs = new RedisStore(client(), 60, '', { localCache: false })
    await theirs.merge(id, changes({ set: { c: 3 } }), snapshotOf(await theirs.read(id)))
    await admin.ping()
    assert.deepEqual(await store.read(id), { a: 1, b: 2, c: 3 })
  }).skip(!!reason, reason)

  test('keep caching after Redis lost its scripts: the script is sent again, tracked', async ({
    assert,
  }) => {
    const store = await cachedStore(60)
    const id = newSessionId()
    await store.write(id, { a: 1 })
    const data = await store.read(id)
    await admin.script('FLUSH')
    await store.merge(id, changes({ set: { b: 2 } }), snapshotOf(data))
    await admin.config('RESETSTAT')
    assert.deepEqual(await store.read(id), { a: 1, b: 2 })
    assert.deepEqual(await commandCounts(admin), {})
    const theirs = new RedisStore(client(), 60, '', { localCache: false })
    await theirs.write(id, { by: 'them' })
    await admin.ping()
    assert.deepEqual(await store.read(id), { by: 'them' })
  }).skip(!!reason, reason)

  test('push the TTL of a cached session forward once half the age has passed', async ({
    assert,
  }) => {
    const store = await cachedStore(2)
    const id = newSessionId()
    await store.write(id, { a: 1 })
    await store.read(id)
    await new Promise((resolve) => setTimeout(resolve, 1100))
    assert.isBelow(await admin.pttl(id), 1000)
    await admin.config('RESETSTAT')
    assert.deepEqual(await store.read(id), { a: 1 })
    /* One round trip: CLIENT CACHING, then a script whose EXPIRE and GET run inside Redis. */
    assert.deepEqual(await commandCounts(admin), {
      'client|caching': 1,
      'evalsha': 1,
      'expire': 1,
      'get': 1,
    })
    assert.isAbove(await admin.pttl(id), 1500)
  }).skip(!!reason, reason)

  test('empty the cache and stop using it while the connection is down', async ({
    assert,
    cleanup,
  }) => {
    const own = await startRedisServer()
    cleanup(() => own.stop())
    const ours = new Redis({ port: own.port, host: own.host, maxRetriesPerRequest: 1 })
    ours.on('error', () => {})
    cleanup(() => ours.disconnect())
    const store = new RedisStore(ours, 60, '', { localCache: true })
    await untilLocalCacheIsOn(ours)
    const id = newSessionId()
    await store.write(id, { a: 1 })
    assert.deepEqual(await store.read(id), { a: 1 })
    await own.stop()
    const restarted = await startRedisServer({ port: own.port })
    cleanup(() => restarted.stop())
    if (ours.status !== 'ready') await new Promise((resolve) => ours.once('ready', resolve))
    assert.isNull(
      await store.read(id),
      'the restarted Redis holds nothing; the cache must not answer'
    )
    await untilLocalCacheIsOn(ours)
    await store.write(id, { a: 2 })
    assert.deepEqual(await store.read(id), { a: 2 })
  })
    .skip(!!reason, reason)
    .timeout(15_000)

  test('work without the cache, and without a storm of connections, when Redis refuses CLIENT', async ({
    assert,
    cleanup,
  }) => {
    const own = await startRedisServer({ args: ['--rename-command', 'CLIENT', ''] })
    cleanup(() => own.stop())
    const ours = new Redis({ port: own.port, host: own.host, maxRetriesPerRequest: 1 })
    ours.on('error', () => {})
    cleanup(() => ours.disconnect())
    const store = new RedisStore(ours, 60, '', { localCache: true })
    const id = newSessionId()
    await store.write(id, { a: 1 })
    for (let round = 0; round < 80; round++) {
      assert.deepEqual(await store.read(id), { a: 1 })
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    assert.isFalse(RedisLocalCache.of(ours).active)
    const stats = await ours.info('stats')
    const connections = Number(stats.match(/total_connections_received:(\d+)/)![1])
    /* In 4 s: attempts at 0 and 2 s (then 6 s); one a second would make 4 or 5. */
    assert.isAtMost(connections, 4, 'ours, a first attempt and one after 2 s')
  })
    .skip(!!reason, reason)
    .timeout(15_000)

  test('never cache a read that an invalidation overtook', ({ assert }) => {
    const cache = RedisLocalCache.of(new Redis({ lazyConnect: true }))
    const pending = cache.begin('key')
    cache.forget('key')
    cache.complete('key', pending, 'stale', Date.now())
    assert.isUndefined(cache.lookup('key'))
  })
})

/**
 * A real app with @adonisjs/redis and the redis store on a connection to
 * `address` (with the fast-failure options unless others are given).
 */
function createRedisApp(
  address: { host: string; port: number },
  routes: Parameters<typeof createTestApp>[0]['routes'],
  options: {
    prefix?: string
    connection?: RedisConnectionConfig
    storeTimeout?: number
    localCache?: boolean
  } = {}
) {
  return createTestApp({
    session: defineConfig({
      store: 'redis',
      stores: {
        redis: stores.redis({
          connection: 'main',
          prefix: options.prefix,
          localCache: options.localCache,
        }),
      },
      storeTimeout: options.storeTimeout ?? 2000,
    }),
    providers: [() => import('@adonisjs/redis/redis_provider')],
    config: {
      redis: defineRedisConfig({
        connection: 'main',
        connections: { main: { ...address, ...(options.connection ?? FAST_FAILURE) } },
      }),
    },
    routes,
  })
}

test.group('RedisStore | faults', () => {
  const reason = missing({ redisServers: true })

  /**
   * An app counting visits in the session, on a private redis-server that the
   * test can stop (by pid) and start again on the same port.
   */
  async function visitsApp(
    cleanup: (handler: () => Promise<void>) => void,
    options: { connection?: RedisConnectionConfig; storeTimeout?: number } = {}
  ) {
    let server = await startRedisServer()
    const app = await createRedisApp(
      server,
      (router) => {
        router.get('/visits', ({ session }) => {
          session.increment('visits')
          return { visits: session.get('visits') }
        })
      },
      options
    )
    cleanup(async () => {
      await app.close().catch(() => {})
      await server.stop()
    })
    return {
      browser: new CookieClient(app.url),
      stopRedis: () => server.stop(),
      async startRedis() {
        server = await startRedisServer({ port: server.port })
      },
    }
  }

  /** Request until the app answers 200 again (at most 5 s). */
  async function untilBack(browser: CookieClient) {
    const deadline = Date.now() + 5000
    let response = await browser.get('/visits')
    while (response.status !== 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      response = await browser.get('/visits')
    }
    return response
  }

  test('answer 503 at once while redis is down, and work again once it is back', async ({
    assert,
    cleanup,
  }) => {
    const { browser, stopRedis, startRedis } = await visitsApp(cleanup)
    assert.equal((await browser.get('/visits')).json().visits, 1)

    await stopRedis()
    const startedAt = Date.now()
    const down = await browser.get('/visits')
    assert.equal(down.status, 503)
    assert.isBelow(Date.now() - startedAt, 1000, 'well below storeTimeout (2000 ms)')
    assert.match(down.text, /^The "redis" session store is unavailable: /)

    await startRedis()
    const back = await untilBack(browser)
    assert.equal(back.status, 200)
    assert.equal((await browser.get('/visits')).json().visits, back.json().visits + 1)
  })
    .skip(!!reason, reason)
    .timeout(15_000)

  test('answer 503 after storeTimeout when the connection queues commands offline', async ({
    assert,
    cleanup,
  }) => {
    const { browser, stopRedis, startRedis } = await visitsApp(cleanup, {
      connection: {},
      storeTimeout: 400,
    })
    assert.equal((await browser.get('/visits')).status, 200)

    await stopRedis()
    const startedAt = Date.now()
    const down = await browser.get('/visits')
    assert.equal(down.status, 503)
    assert.closeTo(Date.now() - startedAt, 400, 300)
    assert.include(down.text, '(storeTimeout)')

    await startRedis()
    assert.equal((await untilBack(browser)).status, 200)
  })
    .skip(!!reason, reason)
    .timeout(15_000)
})

test.group('RedisStore | http', (group) => {
  const reason = missing({ sharedRedis: true })
  group.each.teardown(async () => {
    if (reason) return
    const client = sharedClient()
    await deleteMatching(client, `${runPrefix}*`)
    client.disconnect()
  })

  test('keep every change of 20 parallel requests on one session', async ({ assert, cleanup }) => {
    const app = await createRedisApp(
      sharedRedis,
      (router) => {
        router.post('/put/:index', ({ session, params }) => {
          session.put(`key${params.index}`, Number(params.index))
          return { id: session.sessionId }
        })
        router.get('/all', ({ session }) => session.all())
      },
      { prefix: runPrefix }
    )
    cleanup(() => app.close())
    const browser = new CookieClient(app.url)
    const { id } = (await browser.post('/put/start')).json()
    await Promise.all(Array.from({ length: 20 }, (_, index) => browser.post(`/put/${index}`)))
    const all = (await browser.get('/all')).json()
    for (let index = 0; index < 20; index++) {
      assert.equal(all[`key${index}`], index, `key${index} was lost`)
    }
    const client = sharedClient()
    cleanup(() => client.disconnect())
    assert.include(await client.get(`${runPrefix}${id}`), '"key19":19')
  })
    .skip(!!reason, reason)
    .timeout(15_000)

  test('list the sessions of a user across devices and sign the other devices out', async ({
    assert,
    cleanup,
  }) => {
    const user = `user-${randomUUID()}`
    const app = await createRedisApp(
      sharedRedis,
      (router, adonis) => {
        router.post('/login', async ({ session }) => {
          session.put('cart', 1)
          session.regenerate()
          await session.tag(user)
          return { id: session.sessionId }
        })
        router.get('/whoami', ({ session }) => ({ id: session.sessionId, all: session.all() }))
        router.post('/sign-out-others', async ({ session }) => {
          const manager = await adonis.container.make('session.manager')
          return { ended: await manager.destroyTagged(user, { except: session.sessionId }) }
        })
      },
      { prefix: runPrefix }
    )
    cleanup(() => app.close())
    const [laptop, phone] = [new CookieClient(app.url), new CookieClient(app.url)]
    const before = (await laptop.get('/whoami')).json().id
    const laptopId = (await laptop.post('/login')).json().id
    const phoneId = (await phone.post('/login')).json().id
    const client = sharedClient()
    cleanup(() => client.disconnect())
    assert.sameMembers(await client.smembers(`${runPrefix}session_tag:${user}`), [
      laptopId,
      phoneId,
    ])
    assert.notInclude(await client.smembers(`${runPrefix}session_tag:${user}`), before)
    assert.sameMembers(
      (await app.manager.tagged(user)).map((session) => session.id),
      [laptopId, phoneId]
    )

    assert.equal((await laptop.post('/sign-out-others')).json().ended, 1)
    assert.deepEqual(await client.smembers(`${runPrefix}session_tag:${user}`), [laptopId])
    const phoneAfter = (await phone.get('/whoami')).json()
    assert.notEqual(phoneAfter.id, phoneId)
    assert.deepEqual(phoneAfter.all, {})
    assert.deepEqual((await laptop.get('/whoami')).json().all, { cart: 1 })
  })
    .skip(!!reason, reason)
    .timeout(15_000)

  test('read and write sessions in the format of the official redis store', async ({
    assert,
    cleanup,
  }) => {
    const app = await createRedisApp(sharedRedis, () => {}, { connection: {} })
    cleanup(() => app.close())
    const official = await import(OFFICIAL_PACKAGE)
    const factory = await configProvider.resolve<any>(
      app.app,
      official.stores.redis({ connection: 'main' })
    )
    const officialStore = factory!(undefined, { age: 60 })
    const ours = app.manager.store() as RedisStore
    const [fromOfficial, fromOurs, user] = [newSessionId(), newSessionId(), `u-${randomUUID()}`]
    const client = sharedClient()
    cleanup(async () => {
      await client.del(fromOfficial, fromOurs, `session_tag:${user}`)
      client.disconnect()
    })

    await officialStore.write(fromOfficial, { cart: [1, 2], name: 'Zoë' })
    await officialStore.tag(fromOfficial, user)
    assert.deepEqual(await ours.read(fromOfficial), { cart: [1, 2], name: 'Zoë' })
    assert.deepEqual(
      (await ours.tagged(user)).map((session) => session.id),
      [fromOfficial]
    )

    await ours.write(fromOurs, { count: 3, [METADATA_KEY]: { createdAt: 1, lastSeenAt: 2 } })
    await ours.tag(fromOurs, user)
    assert.deepEqual(await officialStore.read(fromOurs), { count: 3 })
    assert.deepEqual((await ours.read(fromOurs))![METADATA_KEY], {
      createdAt: 1,
      lastSeenAt: 2,
      userId: user,
    })
    assert.sameMembers(
      (await officialStore.tagged(user)).map((session: { id: string }) => session.id),
      [fromOfficial, fromOurs]
    )
    await ours.destroy(fromOfficial)
    assert.isNull(await officialStore.read(fromOfficial))
  })
    .skip(!!reason, reason)
    .timeout(15_000)
})

/* The conformance suite and cluster cases against a real 3-node Redis Cluster. */
let cluster: Promise<PrivateRedisCluster> | undefined
const clusterConnections = new Map<RedisStore, RedisClusterConnection>()

/** A connection of @adonisjs/redis to the test cluster (started on first use). */
async function clusterConnection(): Promise<RedisClusterConnection> {
  cluster ??= startRedisCluster(3)
  const { nodes } = await cluster
  const connection = new RedisClusterConnection('cluster', nodes, {
    redisOptions: { maxRetriesPerRequest: 1 },
  })
  connection.on('error', () => {})
  return connection
}

/** Delete the run's keys on every master of the cluster. */
async function cleanCluster(connection: RedisClusterConnection) {
  for (const node of connection.nodes('master')) {
    await deleteMatching(node, `${runPrefix}*`)
  }
}

if (missing({ redisServers: true })) {
  test.group('RedisStore on a cluster', () => {
    test('run the store conformance suite on a cluster').skip(true, missing({ redisServers: true }))
  })
} else {
  storeConformanceSuite({
    name: 'RedisStore on a cluster',
    async createStore(age) {
      const connection = await clusterConnection()
      const store = new RedisStore(() => connection, age, runPrefix)
      clusterConnections.set(store, connection)
      return store
    },
    async cleanup(store) {
      const connection = clusterConnections.get(store)!
      clusterConnections.delete(store)
      await cleanCluster(connection)
      await connection.disconnect()
    },
    tagging: true,
    merge: true,
  })

  test.group('RedisStore on a cluster', (group) => {
    let connection: RedisClusterConnection
    group.setup(async () => {
      connection = await clusterConnection()
      return async () => {
        await cleanCluster(connection)
        await connection.disconnect()
        await (await cluster!).stop()
      }
    })

    test('list and prune the sessions of a user spread over several nodes', async ({ assert }) => {
      const store = new RedisStore(() => connection, 60, runPrefix)
      const ids = Array.from({ length: 12 }, () => newSessionId())
      for (const id of ids) {
        await store.write(id, { id })
        await store.tag(id, 'frank')
      }
      const slots = await Promise.all(
        ids.map((id) => connection.ioConnection.cluster('KEYSLOT', store.keyOf(id)))
      )
      assert.isAbove(new Set(slots).size, 1)
      assert.sameMembers(
        (await store.tagged('frank')).map((session) => session.id),
        ids
      )
      await Promise.all(ids.slice(0, 4).map((id) => connection.ioConnection.del(store.keyOf(id))))
      assert.equal(await store.prune(), 4)
      assert.sameMembers(
        await connection.ioConnection.smembers(store.tagKeyOf('frank')),
        ids.slice(4)
      )
    })
  })
}
