import { test } from '@japa/runner'
import { readdir } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import getPort from 'get-port'
import { Database } from '@adonisjs/lucid/database'
import type { QueryClientContract } from '@adonisjs/lucid/types/database'
import { LoggerFactory } from '@adonisjs/core/factories/logger'
import { AppFactory } from '@adonisjs/core/factories/app'
import { Emitter } from '@adonisjs/core/events'
import { configProvider } from '@adonisjs/core'
import type { Router } from '@adonisjs/core/http'
import { newSessionId, storeConformanceSuite } from '../../factories/store_conformance.js'
import { DatabaseStore } from '../../src/stores/database.js'
import { encodePayload, METADATA_KEY, snapshotOf } from '../../src/payload.js'
import { defineConfig, stores } from '../../index.js'
import { CookieClient, createTestApp } from '../../tests_helpers/index.js'
import {
  closeDatabase,
  createSessionsTable,
  dropSessionsTable,
  engineSkipReason,
  epochMilliseconds,
  lucidConfig,
  openDatabase,
  removeSqliteFiles,
  SQL_ENGINES,
  uniqueTableName,
  type SqlEngine,
} from '../../tests_helpers/databases.js'

/**
 * A database store on a fresh table of an engine, with what the tests need to
 * look at the table and clean up.
 */
interface OpenedStore {
  store: DatabaseStore
  client: QueryClientContract
  tableName: string
  rows(): Promise<any[]>
  close(): Promise<void>
}

/**
 * Open a connection, create a uniquely named sessions table and a store on it.
 * MySQL tables get millisecond `expires_at` (`precision: 3`) unless told
 * otherwise, so one-second expiries in the tests are exact.
 */
async function openStore(
  engine: SqlEngine,
  options: { age?: number; gcProbability?: number; precision?: number | null } = {}
): Promise<OpenedStore> {
  const db = await openDatabase(engine)
  const client = db.connection(engine)
  const tableName = uniqueTableName()
  const precision =
    options.precision === undefined ? (engine === 'mysql' ? 3 : undefined) : options.precision
  await createSessionsTable(client, tableName, { precision: precision ?? undefined })
  const store = new DatabaseStore(client, options.age ?? 60, {
    tableName,
    gcProbability: options.gcProbability ?? 0,
  })
  return {
    store,
    client,
    tableName,
    rows: () => client.getWriteClient()(tableName).select('*').orderBy('id'),
    async close() {
      await dropSessionsTable(client, tableName)
      await closeDatabase(db)
    },
  }
}

/**
 * The DatabaseStore class of @adonisjs/session 7.x, loaded from its build.
 */
async function officialDatabaseStore(): Promise<any> {
  const folder = new URL('../../node_modules/adonisjs-session-official/build/', import.meta.url)
  const file = (await readdir(folder)).find((name) => /^database-.*\.js$/.test(name))
  return (await import(new URL(file!, folder).href)).DatabaseStore
}

/** Insert a row as it would be after `ms` milliseconds from now (negative: expired). */
async function insertRow(opened: OpenedStore, sessionId: string, expiresInMs: number) {
  await opened.client
    .getWriteClient()(opened.tableName)
    .insert({
      id: sessionId,
      data: encodePayload(sessionId, { id: sessionId }),
      expires_at: new Date(Date.now() + expiresInMs),
    })
}

/** A test app whose default store is the database store on a fresh table. */
async function openApp(
  engine: SqlEngine,
  routes: Parameters<typeof createTestApp>[0]['routes'],
  options: { port?: number; storeTimeout?: number } = {}
) {
  const tableName = uniqueTableName()
  const app = await createTestApp({
    session: defineConfig({
      store: 'database',
      storeTimeout: options.storeTimeout,
      stores: { database: stores.database({ connectionName: engine, tableName }) },
    }),
    providers: [() => import('@adonisjs/lucid/database_provider')],
    config: { database: lucidConfig(engine, options.port) },
    routes,
  })
  const db: Database = await app.app.container.make('lucid.db')
  const client = db.connection(engine)
  if (options.port === undefined) {
    await createSessionsTable(client, tableName, { precision: engine === 'mysql' ? 3 : undefined })
  }
  return {
    ...app,
    client,
    tableName,
    async close() {
      if (options.port === undefined) {
        await dropSessionsTable(client, tableName)
      }
      await app.close()
      await removeSqliteFiles(db.config.connections)
    },
  }
}

for (const engine of SQL_ENGINES) {
  const skipReason = await engineSkipReason(engine)
  if (skipReason) {
    test.group(`DatabaseStore (${engine})`, () => {
      test('run the database store tests on a real server').skip(true, skipReason)
    })
    continue
  }

  const openedStores = new Map<DatabaseStore, OpenedStore>()
  storeConformanceSuite({
    name: `DatabaseStore (${engine})`,
    async createStore(age) {
      const store = await openStore(engine, { age })
      openedStores.set(store.store, store)
      return store.store
    },
    async cleanup(store) {
      await openedStores.get(store)?.close()
      openedStores.delete(store)
    },
    tagging: true,
    merge: true,
  })

  test.group(`DatabaseStore (${engine})`, () => {
    test('store rows in the columns of the make:session-table migration', async ({
      assert,
      cleanup,
    }) => {
      const opened = await openStore(engine, { age: 300 })
      cleanup(() => opened.close())
      const id = newSessionId()
      const before = Date.now()
      await opened.store.write(id, { cart: [1, 2] })
      await opened.store.tag(id, 42)
      const [row] = await opened.rows()
      assert.equal(row.id, id)
      assert.equal(row.data, `{"message":{"cart":[1,2]},"purpose":"${id}"}`)
      assert.strictEqual(row.user_id, '42')
      const expiresAt = epochMilliseconds(row.expires_at)
      assert.isAtLeast(expiresAt, before + 300_000 - 1000)
      assert.isAtMost(expiresAt, Date.now() + 300_000 + 1000)
    })

    test('read sessions written by @adonisjs/session 7.x on its own schema, and the other way round', async ({
      assert,
      cleanup,
    }) => {
      const opened = await openStore(engine, { precision: null })
      cleanup(() => opened.close())
      const OfficialStore = await officialDatabaseStore()
      const official = new OfficialStore(opened.client, '2h', {
        tableName: opened.tableName,
        gcProbability: 0,
      })
      const [theirs, ours] = [newSessionId(), newSessionId()]
      await official.write(theirs, { user: { name: 'Zoë' }, visits: 3 })
      await official.tag(theirs, '7')
      assert.deepEqual(await opened.store.read(theirs), { user: { name: 'Zoë' }, visits: 3 })
      assert.deepEqual(await opened.store.tagged('7'), [
        { id: theirs, data: { user: { name: 'Zoë' }, visits: 3 } },
      ])

      const metadata = { createdAt: 1, lastSeenAt: 2 }
      await opened.store.write(ours, { theme: 'dark', [METADATA_KEY]: metadata })
      await opened.store.merge(ours, { set: { lang: 'fr' }, unset: [], cleared: false })
      assert.deepEqual(await official.read(ours), { theme: 'dark', lang: 'fr' })
      assert.deepEqual((await opened.store.read(ours))![METADATA_KEY], metadata)
    })

    test('ignore expired rows on read, touch and tagged', async ({ assert, cleanup }) => {
      const opened = await openStore(engine)
      cleanup(() => opened.close())
      const id = newSessionId()
      await insertRow(opened, id, -2000)
      await opened.client.getWriteClient()(opened.tableName).update({ user_id: 'u1' })
      await opened.store.touch(id)
      assert.isNull(await opened.store.read(id))
      assert.deepEqual(await opened.store.tagged('u1'), [])
      const [row] = await opened.rows()
      assert.isBelow(epochMilliseconds(row.expires_at), Date.now())
    })

    test('delete only expired rows with prune and return how many', async ({ assert, cleanup }) => {
      const opened = await openStore(engine)
      cleanup(() => opened.close())
      const live = [newSessionId(), newSessionId()]
      for (const id of live) await insertRow(opened, id, 60_000)
      for (let index = 0; index < 3; index++) await insertRow(opened, newSessionId(), -2000)
      assert.equal(await opened.store.prune(), 3)
      assert.sameMembers(
        (await opened.rows()).map((row) => row.id),
        live
      )
      assert.equal(await opened.store.prune(), 0)
    })

    test('collect expired rows in the background of a write when gcProbability is 100', async ({
      assert,
      cleanup,
    }) => {
      const opened = await openStore(engine, { gcProbability: 100 })
      cleanup(() => opened.close())
      for (let index = 0; index < 3; index++) await insertRow(opened, newSessionId(), -2000)
      const id = newSessionId()
      await opened.store.write(id, { a: 1 })
      let rows = await opened.rows()
      for (let attempt = 0; rows.length > 1 && attempt < 50; attempt++) {
        await sleep(20)
        rows = await opened.rows()
      }
      assert.deepEqual(
        rows.map((row) => row.id),
        [id]
      )
    })

    test('never collect garbage when gcProbability is 0', async ({ assert, cleanup }) => {
      const opened = await openStore(engine, { gcProbability: 0 })
      cleanup(() => opened.close())
      await insertRow(opened, newSessionId(), -2000)
      const id = newSessionId()
      for (let index = 0; index < 20; index++) await opened.store.write(id, { index })
      await sleep(100)
      assert.lengthOf(await opened.rows(), 2)
    })

    test('touch moves expires_at forward and leaves data and user_id alone', async ({
      assert,
      cleanup,
    }) => {
      const opened = await openStore(engine, { age: 60 })
      cleanup(() => opened.close())
      const id = newSessionId()
      await opened.store.write(id, { a: 1 })
      await opened.store.tag(id, 'u1')
      const [before] = await opened.rows()
      await sleep(1100)
      await opened.store.touch(id)
      const [after] = await opened.rows()
      assert.isAtLeast(
        epochMilliseconds(after.expires_at) - epochMilliseconds(before.expires_at),
        1000
      )
      assert.equal(after.data, before.data)
      assert.equal(after.user_id, 'u1')
    })

    test('keep the data and expiry of a row when tagging and untagging it', async ({
      assert,
      cleanup,
    }) => {
      const opened = await openStore(engine)
      cleanup(() => opened.close())
      const id = newSessionId()
      await opened.store.write(id, { a: 1 })
      const [written] = await opened.rows()
      await opened.store.tag(id, 'u1')
      await opened.store.untag(id)
      const [row] = await opened.rows()
      assert.equal(row.data, written.data)
      assert.equal(epochMilliseconds(row.expires_at), epochMilliseconds(written.expires_at))
      assert.isNull(row.user_id)
    })

    test('create a row with empty data when tagging a session not stored yet', async ({
      assert,
      cleanup,
    }) => {
      const opened = await openStore(engine)
      cleanup(() => opened.close())
      const id = newSessionId()
      await opened.store.tag(id, 'u1')
      assert.deepEqual(await opened.store.read(id), {})
      assert.deepEqual(await opened.store.tagged('u1'), [{ id, data: {} }])
    })

    test('delete a row whose data cannot be decoded and read it as no session', async ({
      assert,
      cleanup,
    }) => {
      const opened = await openStore(engine)
      cleanup(() => opened.close())
      const id = newSessionId()
      await opened.client
        .getWriteClient()(opened.tableName)
        .insert({ id, data: '{"message":', expires_at: new Date(Date.now() + 60_000) })
      assert.isNull(await opened.store.read(id))
      assert.lengthOf(await opened.rows(), 0)
    })

    test('never merge over data that changed only in letter case since it was read', async ({
      assert,
      cleanup,
    }) => {
      const opened = await openStore(engine)
      cleanup(() => opened.close())
      const id = newSessionId()
      await opened.store.write(id, { name: 'bob' })
      const snapshot = snapshotOf(await opened.store.read(id))
      await opened.store.write(id, { name: 'BOB' })
      await opened.store.merge(id, { set: { seen: true }, unset: [], cleared: false }, snapshot)
      assert.deepEqual(await opened.store.read(id), { name: 'BOB', seen: true })
    })

    test('keep every change of 20 parallel requests on one session', async ({
      assert,
      cleanup,
    }) => {
      const app = await openApp(engine, (router) => {
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
      const rows = await app.client.getWriteClient()(app.tableName).select('data')
      assert.lengthOf(rows, 1)
      assert.equal(JSON.parse(rows[0].data).message.key19, 19)
    })

    test('list and end the sessions of a user through the session manager', async ({
      assert,
      cleanup,
    }) => {
      const app = await openApp(engine, (router) => {
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
      const listed = await app.manager.tagged('user-1')
      assert.lengthOf(listed, 2)
      const users = await app.client.getWriteClient()(app.tableName).pluck('user_id')
      assert.deepEqual(users, ['user-1', 'user-1'])
      assert.equal(await app.manager.destroyTagged('user-1'), 2)
      assert.deepEqual((await phone.get('/me')).json(), { name: null })
    })

    test('apply a merge whose snapshot cannot be decoded on the stored data', async ({
      assert,
      cleanup,
    }) => {
      const opened = await openStore(engine)
      cleanup(() => opened.close())
      const id = newSessionId()
      await opened.store.write(id, { a: 1 })
      await opened.store.merge(id, { set: { b: 2 }, unset: [], cleared: false }, 'not json')
      assert.deepEqual(await opened.store.read(id), { a: 1, b: 2 })
    })

    if (engine === 'sqlite') {
      test('keep a write working when background garbage collection fails', async ({
        assert,
        cleanup,
      }) => {
        const opened = await openStore(engine, { gcProbability: 100 })
        cleanup(() => opened.close())
        const unhandled: unknown[] = []
        const record = (reason: unknown) => unhandled.push(reason)
        process.on('unhandledRejection', record)
        cleanup(() => {
          process.off('unhandledRejection', record)
        })
        await opened.client.rawQuery(
          `CREATE TRIGGER no_deletes BEFORE DELETE ON ${opened.tableName} BEGIN SELECT RAISE(ABORT, 'deletes refused'); END`
        )
        await insertRow(opened, newSessionId(), -2000)
        const id = newSessionId()
        await opened.store.write(id, { a: 1 })
        await sleep(100)
        await opened.store.write(id, { a: 2 })
        assert.deepEqual(await opened.store.read(id), { a: 2 })
        assert.lengthOf(await opened.rows(), 2)
        assert.deepEqual(unhandled, [])
      })
    }

    if (engine === 'mysql') {
      test('keep expires_at when tagging on a table created with implicit TIMESTAMP defaults', async ({
        assert,
        cleanup,
      }) => {
        const db = await openDatabase('mysql')
        const client = db.connection('mysql')
        const tableName = uniqueTableName()
        cleanup(async () => {
          await dropSessionsTable(client, tableName)
          await closeDatabase(db)
        })
        // MySQL 5.7 and MariaDB before 10.10 default to this: the first TIMESTAMP
        // column gets ON UPDATE CURRENT_TIMESTAMP.
        await client.transaction(async (transaction) => {
          await transaction.rawQuery('SET SESSION explicit_defaults_for_timestamp = 0')
          await createSessionsTable(transaction, tableName)
        })
        const [[definition]] = await client.rawQuery(`SHOW CREATE TABLE ${tableName}`)
        assert.match(definition['Create Table'], /ON UPDATE current_timestamp/i)
        const store = new DatabaseStore(client, 600, { tableName, gcProbability: 0 })
        const id = newSessionId()
        await store.write(id, { a: 1 })
        await store.tag(id, 'u1')
        await store.untag(id)
        await store.tag(id, 'u2')
        assert.deepEqual(await store.read(id), { a: 1 })
        assert.deepEqual(await store.tagged('u2'), [{ id, data: { a: 1 } }])
      })
    }

    if (engine !== 'sqlite') {
      test('answer 503 naming the store when the database refuses connections', async ({
        assert,
        cleanup,
      }) => {
        const routes = (router: Router) => {
          router.get('/', () => 'ok')
        }
        const app = await openApp(engine, routes, {
          port: await getPort(),
          storeTimeout: 3000,
        })
        cleanup(() => app.close())
        const client = new CookieClient(app.url)
        await client.get('/')
        const started = Date.now()
        const response = await client.get('/')
        assert.equal(response.status, 503)
        assert.include(response.text, 'The "database" session store is unavailable')
        assert.isBelow(Date.now() - started, 3000)
      })
    }
  })
}

test.group('DatabaseStore config', () => {
  test('refuse a gcProbability outside 0 to 100 when the config is defined', ({ assert }) => {
    assert.throws(
      () => stores.database({ gcProbability: 150 }),
      'Invalid session config in "config/session.ts": "stores.database({ gcProbability })" is "150": use a percentage from 0 (never) to 100 (every write)'
    )
  })

  test('refuse a connection name that config/database.ts does not define', async ({
    assert,
    cleanup,
  }) => {
    const app = await openApp('sqlite', () => {})
    cleanup(() => app.close())
    await assert.rejects(
      () => configProvider.resolve(app.app, stores.database({ connectionName: 'missing' })),
      'Invalid session config in "config/session.ts": "stores.database()" uses the connection "missing", which "config/database.ts" does not define'
    )
  })

  test('refuse a connection whose dialect has no upsert', async ({ assert, cleanup }) => {
    const app = new AppFactory().create(new URL('../../tmp/', import.meta.url))
    const db = new Database(
      {
        connection: 'warehouse',
        // Lucid runs Redshift (on the pg driver) but leaves it out of its config types.
        connections: {
          warehouse: { client: 'redshift', connection: { host: '127.0.0.1' } } as any,
        },
      },
      new LoggerFactory().create(),
      new Emitter<any>(app)
    )
    cleanup(() => db.manager.closeAll())
    assert.throws(
      () => new DatabaseStore(db.connection('warehouse'), 60),
      'Invalid session config in "config/session.ts": "stores.database()" uses the connection "warehouse" (redshift), which has no upsert. Use a PostgreSQL, MySQL/MariaDB or SQLite/libSQL connection'
    )
  })
})
