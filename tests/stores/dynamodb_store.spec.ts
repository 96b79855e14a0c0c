import { test } from '@japa/runner'
import { readdir } from 'node:fs/promises'
import getPort from 'get-port'
import {
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb'
import type { Router } from '@adonisjs/core/http'
import { newSessionId, storeConformanceSuite } from '../../factories/store_conformance.js'
import { DynamoDBStore } from '../../src/stores/dynamodb.js'
import { encodePayload, METADATA_KEY, snapshotOf } from '../../src/payload.js'
import { defineConfig, stores } from '../../index.js'
import { CookieClient, createTestApp } from '../../tests_helpers/index.js'
import {
  createSessionTable,
  localClientConfig,
  startDynamoDB,
  type LocalDynamoDB,
} from '../../tests_helpers/dynalite.js'

/**
 * A DynamoDB store on a fresh table of its own dynalite server.
 */
interface OpenedStore {
  store: DynamoDBStore
  dynamo: LocalDynamoDB
  tableName: string
  /** The raw item of a session, or undefined. */
  item(sessionId: string): Promise<Record<string, AttributeValue> | undefined>
  /** Every raw item of the table. */
  items(): Promise<Record<string, AttributeValue>[]>
  /** Put a raw item in the format of @adonisjs/session, expiring in `ms` (negative: expired). */
  putItem(
    sessionId: string,
    expiresInMs: number,
    extra?: Record<string, AttributeValue>
  ): Promise<void>
  close(): Promise<void>
}

let tableCount = 0

async function openStore(
  options: { age?: number; userIndexName?: string; indexOnTable?: boolean } = {}
): Promise<OpenedStore> {
  const dynamo = await startDynamoDB()
  const tableName = `Session_${++tableCount}`
  await createSessionTable(dynamo.client, tableName, {
    userIndexName: options.indexOnTable === false ? undefined : options.userIndexName,
  })
  const store = new DynamoDBStore(dynamo.client, options.age ?? 60, {
    tableName,
    userIndexName: options.userIndexName,
  })
  return {
    store,
    dynamo,
    tableName,
    async item(sessionId) {
      const { Item } = await dynamo.client.send(
        new GetItemCommand({ TableName: tableName, Key: { key: { S: sessionId } } })
      )
      return Item
    },
    async items() {
      return (await dynamo.client.send(new ScanCommand({ TableName: tableName }))).Items ?? []
    },
    async putItem(sessionId, expiresInMs, extra = {}) {
      await dynamo.client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: {
            key: { S: sessionId },
            value: { S: encodePayload(sessionId, { id: sessionId }) },
            expires_at: { N: String(Date.now() + expiresInMs) },
            ...extra,
          },
        })
      )
    },
    close: () => dynamo.close(),
  }
}

/**
 * The DynamoDBStore class of @adonisjs/session 7.x, loaded from its build.
 */
async function officialDynamoDBStore(): Promise<any> {
  const folder = new URL('../../node_modules/adonisjs-session-official/build/', import.meta.url)
  const file = (await readdir(folder)).find((name) => /^dynamodb-.*\.js$/.test(name))
  return (await import(new URL(file!, folder).href)).DynamoDBStore
}

/** A test app whose default store is a custom `stores.dynamodb()` entry. */
async function openApp(routes: (router: Router) => void, config: Record<string, any> = {}) {
  const dynamo = await startDynamoDB()
  await createSessionTable(dynamo.client, 'Session')
  const app = await createTestApp({
    session: defineConfig({
      store: 'dynamodb',
      stores: { dynamodb: stores.dynamodb({ client: dynamo.client, ...config }) },
    }),
    routes,
  })
  return {
    ...app,
    dynamo,
    async close() {
      await app.close()
      await dynamo.close()
    },
  }
}

const openedStores = new Map<DynamoDBStore, OpenedStore>()
storeConformanceSuite({
  name: 'DynamoDBStore',
  async createStore(age) {
    const opened = await openStore({ age })
    openedStores.set(opened.store, opened)
    return opened.store
  },
  async cleanup(store) {
    await openedStores.get(store)?.close()
    openedStores.delete(store)
  },
  tagging: true,
  merge: true,
})

test.group('DynamoDBStore', () => {
  test('store items in the format of @adonisjs/session plus a TTL attribute in seconds', async ({
    assert,
    cleanup,
  }) => {
    const opened = await openStore({ age: 300 })
    cleanup(() => opened.close())
    const id = newSessionId()
    const before = Date.now()
    await opened.store.write(id, { cart: [1, 2] })
    await opened.store.tag(id, 42)
    const item = (await opened.item(id))!
    assert.deepEqual(Object.keys(item).sort(), [
      'expires_at',
      'expires_at_ttl',
      'key',
      'user_id',
      'value',
    ])
    assert.equal(item.value.S, `{"message":{"cart":[1,2]},"purpose":"${id}"}`)
    assert.equal(item.user_id.S, '42')
    const expiresAt = Number(item.expires_at.N)
    assert.isAtLeast(expiresAt, before + 300_000)
    assert.isAtMost(expiresAt, Date.now() + 300_000)
    assert.equal(Number(item.expires_at_ttl.N), Math.ceil(expiresAt / 1000))
  })

  test('read items written by @adonisjs/session 7.x, and the other way round', async ({
    assert,
    cleanup,
  }) => {
    const opened = await openStore()
    cleanup(() => opened.close())
    const OfficialStore = await officialDynamoDBStore()
    const official = new OfficialStore(opened.dynamo.client, '2h', { tableName: opened.tableName })
    const [theirs, ours] = [newSessionId(), newSessionId()]
    await official.write(theirs, { user: { name: 'Zoë' }, visits: 3 })
    assert.deepEqual(await opened.store.read(theirs), { user: { name: 'Zoë' }, visits: 3 })
    await opened.store.merge(theirs, { set: { lang: 'fr' }, unset: ['visits'], cleared: false })
    assert.deepEqual(await official.read(theirs), { user: { name: 'Zoë' }, lang: 'fr' })

    const metadata = { createdAt: 1, lastSeenAt: 2 }
    await opened.store.write(ours, { theme: 'dark', [METADATA_KEY]: metadata })
    await official.touch(ours)
    assert.deepEqual(await official.read(ours), { theme: 'dark' })
    assert.deepEqual(await opened.store.read(ours), { theme: 'dark', [METADATA_KEY]: metadata })
  })

  test('ignore items that expired but that DynamoDB has not deleted yet', async ({
    assert,
    cleanup,
  }) => {
    const opened = await openStore()
    cleanup(() => opened.close())
    const id = newSessionId()
    await opened.putItem(id, -2000, { user_id: { S: 'u1' } })
    const expiresAt = (await opened.item(id))!.expires_at.N
    await opened.store.touch(id)
    await opened.store.merge(id, { set: { a: 1 }, unset: [], cleared: false })
    assert.isNull(await opened.store.read(id))
    assert.deepEqual(await opened.store.tagged('u1'), [])
    assert.equal((await opened.item(id))!.expires_at.N, expiresAt)
  })

  test('delete only expired items with prune and return how many', async ({ assert, cleanup }) => {
    const opened = await openStore()
    cleanup(() => opened.close())
    const live = [newSessionId(), newSessionId()]
    for (const id of live) await opened.putItem(id, 60_000)
    for (let index = 0; index < 3; index++) await opened.putItem(newSessionId(), -2000)
    assert.equal(await opened.store.prune(), 3)
    assert.sameMembers(
      (await opened.items()).map((item) => item.key.S),
      live
    )
    assert.equal(await opened.store.prune(), 0)
  })

  test('never create an item with touch or untag', async ({ assert, cleanup }) => {
    const opened = await openStore()
    cleanup(() => opened.close())
    await opened.store.touch(newSessionId())
    await opened.store.untag(newSessionId())
    assert.deepEqual(await opened.items(), [])
  })

  test('create an item with empty data when tagging a session not stored yet', async ({
    assert,
    cleanup,
  }) => {
    const opened = await openStore()
    cleanup(() => opened.close())
    const id = newSessionId()
    await opened.store.tag(id, 'u1')
    assert.deepEqual(await opened.store.read(id), {})
    assert.deepEqual(await opened.store.tagged('u1'), [{ id, data: {} }])
  })

  test('keep the user link, value and expiry across writes, tags and untags', async ({
    assert,
    cleanup,
  }) => {
    const opened = await openStore()
    cleanup(() => opened.close())
    const id = newSessionId()
    await opened.store.tag(id, 'u1')
    await opened.store.write(id, { a: 1 })
    assert.equal((await opened.item(id))!.user_id.S, 'u1')
    const written = (await opened.item(id))!
    await opened.store.tag(id, 'u2')
    await opened.store.untag(id)
    const expected = { ...written }
    delete expected.user_id
    assert.deepEqual(await opened.item(id), expected)
  })

  test('delete an item whose value cannot be decoded and read it as no session', async ({
    assert,
    cleanup,
  }) => {
    const opened = await openStore()
    cleanup(() => opened.close())
    const id = newSessionId()
    await opened.putItem(id, 60_000, { value: { S: '{"message":' } })
    assert.isNull(await opened.store.read(id))
    assert.deepEqual(await opened.items(), [])
  })

  test('keep every change when two processes merge into one session at once', async ({
    assert,
    cleanup,
  }) => {
    const opened = await openStore()
    cleanup(() => opened.close())
    const otherProcess = new DynamoDBStore(opened.dynamo.client, 60, {
      tableName: opened.tableName,
    })
    const id = newSessionId()
    await opened.store.write(id, { base: true })
    const snapshot = snapshotOf(await opened.store.read(id))
    await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        (index % 2 ? otherProcess : opened.store).merge(
          id,
          { set: { [`key${index}`]: index }, unset: [], cleared: false },
          snapshot
        )
      )
    )
    const data = await opened.store.read(id)
    assert.lengthOf(Object.keys(data!), 21)
    assert.equal(data!.key19, 19)
  })

  test('keep sessions under a custom key attribute', async ({ assert, cleanup }) => {
    const dynamo = await startDynamoDB()
    cleanup(() => dynamo.close())
    await createSessionTable(dynamo.client, 'Sessions', {
      keyAttribute: 'sid',
      userIndexName: 'byUser',
    })
    const store = new DynamoDBStore(dynamo.client, 60, {
      tableName: 'Sessions',
      keyAttribute: 'sid',
      userIndexName: 'byUser',
    })
    const id = newSessionId()
    await store.write(id, { a: 1 })
    await store.tag(id, 'u1')
    await store.merge(id, { set: { b: 2 }, unset: [], cleared: false })
    assert.deepEqual(await store.tagged('u1'), [{ id, data: { a: 1, b: 2 } }])
    const { Items } = await dynamo.client.send(new ScanCommand({ TableName: 'Sessions' }))
    assert.equal(Items![0].sid.S, id)
    assert.equal(await store.prune(), 0)
  })

  test('leave an item whose value cannot be decoded alone when merging', async ({
    assert,
    cleanup,
  }) => {
    const opened = await openStore()
    cleanup(() => opened.close())
    const id = newSessionId()
    await opened.putItem(id, 60_000, { value: { S: 'not json' } })
    await opened.store.merge(id, { set: { a: 1 }, unset: [], cleared: false })
    assert.equal((await opened.item(id))!.value.S, 'not json')
  })

  test('reject every waiting merge when DynamoDB cannot be reached', async ({
    assert,
    cleanup,
  }) => {
    const client = new DynamoDBClient(localClientConfig(`http://127.0.0.1:${await getPort()}`))
    cleanup(() => client.destroy())
    const store = new DynamoDBStore(client, 60)
    const id = newSessionId()
    const snapshot = encodePayload(id, { a: 1 })
    const results = await Promise.allSettled(
      [1, 2, 3].map((index) =>
        store.merge(id, { set: { [`key${index}`]: index }, unset: [], cleared: false }, snapshot)
      )
    )
    assert.deepEqual(
      results.map((result) => result.status),
      ['rejected', 'rejected', 'rejected']
    )
  })

  test('list the live sessions of a user through a user index', async ({ assert, cleanup }) => {
    const opened = await openStore({ userIndexName: 'by_user' })
    cleanup(() => opened.close())
    const [kept, untagged, other] = [newSessionId(), newSessionId(), newSessionId()]
    for (const id of [kept, untagged, other]) await opened.store.write(id, { id })
    await opened.store.tag(kept, 'u1')
    await opened.store.tag(untagged, 'u1')
    await opened.store.tag(other, 'u2')
    await opened.store.untag(untagged)
    await opened.putItem(newSessionId(), -2000, { user_id: { S: 'u1' } })
    assert.deepEqual(await opened.store.tagged('u1'), [{ id: kept, data: { id: kept } }])
  })

  test('query the configured user index instead of scanning the table', async ({
    assert,
    cleanup,
  }) => {
    const opened = await openStore({ userIndexName: 'missing_index', indexOnTable: false })
    cleanup(() => opened.close())
    await assert.rejects(() => opened.store.tagged('u1'), /index/i)
  })

  test('keep every change of 20 parallel requests on one session', async ({ assert, cleanup }) => {
    const app = await openApp((router) => {
      router.get('/start', ({ session }) => session.put('started', true))
      router.get('/write/:index', ({ session, params }) => {
        session.put(`key${params.index}`, Number(params.index))
      })
      router.get('/read', ({ session }) => session.all())
    })
    cleanup(() => app.close())
    const client = new CookieClient(app.url)
    await client.get('/start')
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, index) => client.get(`/write/${index}`))
    )
    assert.deepEqual(
      responses.map((response) => response.status),
      Array(20).fill(200)
    )
    const values = (await client.get('/read')).json()
    for (let index = 0; index < 20; index++) assert.equal(values[`key${index}`], index)
    const { Items } = await app.dynamo.client.send(new ScanCommand({ TableName: 'Session' }))
    assert.lengthOf(Items!, 1)
    assert.equal(JSON.parse(Items![0].value.S!).message.key19, 19)
  })

  test('list and end the sessions of a user through the session manager', async ({
    assert,
    cleanup,
  }) => {
    const app = await openApp((router) => {
      router.get('/login', async ({ session }) => {
        session.put('name', 'ada')
        await session.tag('user-1')
      })
      router.get('/me', ({ session }) => ({ name: session.get('name') ?? null }))
    })
    cleanup(() => app.close())
    const [laptop, phone] = [new CookieClient(app.url), new CookieClient(app.url)]
    await laptop.get('/login')
    await phone.get('/login')
    assert.lengthOf(await app.manager.tagged('user-1'), 2)
    const { Items } = await app.dynamo.client.send(new ScanCommand({ TableName: 'Session' }))
    assert.deepEqual(
      Items!.map((item) => item.user_id.S),
      ['user-1', 'user-1']
    )
    assert.equal(await app.manager.destroyTagged('user-1'), 2)
    assert.deepEqual((await phone.get('/me')).json(), { name: null })
  })

  test('answer 503 naming the store when DynamoDB cannot be reached', async ({
    assert,
    cleanup,
  }) => {
    const closedPort = await getPort()
    const app = await createTestApp({
      session: defineConfig({
        store: 'dynamodb',
        storeTimeout: 3000,
        stores: {
          dynamodb: stores.dynamodb({
            clientConfig: localClientConfig(`http://127.0.0.1:${closedPort}`),
          }),
        },
      }),
      routes: (router) => {
        router.get('/', () => 'ok')
      },
    })
    cleanup(() => app.close())
    const client = new CookieClient(app.url)
    await client.get('/')
    const started = Date.now()
    const response = await client.get('/')
    assert.equal(response.status, 503)
    assert.include(response.text, 'The "dynamodb" session store is unavailable')
    assert.isBelow(Date.now() - started, 3000)
  })
})

test.group('DynamoDBStore | shutdown', () => {
  /** A real client that records whether it was destroyed. */
  class RecordingClient extends DynamoDBClient {
    destroyed = false

    destroy() {
      this.destroyed = true
      super.destroy()
    }
  }

  test('destroy a client the store created, never one the app passed', ({ assert }) => {
    const created = new RecordingClient({ region: 'local' })
    const passed = new RecordingClient({ region: 'local' })
    new DynamoDBStore(created, 60, { ownsClient: true }).close()
    new DynamoDBStore(passed, 60).close()
    assert.isTrue(created.destroyed)
    assert.isFalse(passed.destroyed)
  })
})
