import { test } from '@japa/runner'
import { SessionManager } from '../src/session_manager.js'
import { Session } from '../src/session.js'
import { MemoryStore } from '../src/stores/memory.js'
import { FileStore } from '../src/stores/file.js'
import { createHttpContext } from '../tests_helpers/http_context.js'
import { createStoreApp } from '../tests_helpers/store_matrix.js'

test.group('SessionManager | container', () => {
  test('live in the container as a singleton under session.manager and its class', async ({
    assert,
    cleanup,
  }) => {
    const { app, manager, close } = await createStoreApp('memory')
    cleanup(close)
    assert.instanceOf(manager, SessionManager)
    assert.strictEqual(await app.container.make('session.manager'), manager)
    assert.strictEqual(await app.container.make(SessionManager), manager)
  })

  test('export the booted app manager from services/main', async ({ assert, cleanup }) => {
    const { manager, close } = await createStoreApp('memory')
    cleanup(close)
    const service = await import(`../services/main.js?app=${Date.now()}`)
    assert.strictEqual(service.default, manager)
  })
})

test.group('SessionManager | stores and sessions', () => {
  test('create the uninitiated Session of a request on the configured store', async ({
    assert,
    cleanup,
  }) => {
    const { manager, close } = await createStoreApp('file')
    cleanup(close)
    const session = manager.create(createHttpContext())
    assert.instanceOf(session, Session)
    assert.isFalse(session.initiated)
    assert.equal(session.storeName, 'file')
  })

  test('reuse one instance of a shared store for every request', async ({ assert, cleanup }) => {
    const { client, manager, close } = await createStoreApp('file')
    cleanup(close)
    const store = manager.store()
    assert.instanceOf(Object.getPrototypeOf(store), FileStore)
    await client.post('/session/call', { calls: [['put', 'a', 1]] })
    await client.get('/session')
    assert.strictEqual(manager.store(), store)
  })

  test('read a session by id without its metadata, null when unknown or invalid', async ({
    assert,
    cleanup,
  }) => {
    const { client, manager, close } = await createStoreApp('file')
    cleanup(close)
    const { sessionId } = (
      await client.post('/session/call', { calls: [['put', 'cart', [1, 2]]] })
    ).json()
    const read = await manager.read(sessionId)
    assert.deepEqual(read, { cart: [1, 2] })
    assert.deepEqual(Object.getOwnPropertySymbols(read), [], 'no store snapshot leaks out')
    assert.isNull(await manager.read('abcdefghijklmnopqrstuvwx'))
    assert.isNull(await manager.read('../../etc/passwd'))
  })

  test('destroy a session by id: its cookie opens an empty session afterwards', async ({
    assert,
    cleanup,
  }) => {
    const { client, manager, close } = await createStoreApp('memory')
    cleanup(close)
    const { sessionId } = (await client.post('/session/call', { calls: [['put', 'a', 1]] })).json()
    await manager.destroy(sessionId)
    assert.isNull(await manager.read(sessionId))
    assert.include((await client.get('/session')).json(), { fresh: true, isEmpty: true })
  })

  test('use another configured store by name, the memory store included', async ({
    assert,
    cleanup,
  }) => {
    const { manager, close } = await createStoreApp('file')
    cleanup(close)
    const memory = manager.use('memory')
    assert.equal(memory.storeName, 'memory')
    assert.instanceOf(memory.store(), MemoryStore)
    await memory.store().write('abcdefghijklmnopqrstuvwx', { via: 'memory' })
    assert.deepEqual(await memory.read('abcdefghijklmnopqrstuvwx'), { via: 'memory' })
    assert.isNull(await manager.read('abcdefghijklmnopqrstuvwx'))
    assert.strictEqual(manager.use('memory').store(), memory.store())
  })

  test('swap the store of every later request, refusing unknown names', async ({
    assert,
    cleanup,
  }) => {
    const { manager, close } = await createStoreApp('file')
    cleanup(close)
    manager.swap('memory')
    assert.equal(manager.storeName, 'memory')
    assert.equal(manager.create(createHttpContext()).storeName, 'memory')
    assert.throws(
      () => manager.swap('nope'),
      'Invalid session config in "config/session.ts": there is no store named "nope". Choose one of: memory, cookie, file'
    )
    assert.equal(manager.storeName, 'memory')
  })

  test('refuse an unknown store name, listing the configured ones', async ({ assert, cleanup }) => {
    const { manager, close } = await createStoreApp('memory')
    cleanup(close)
    assert.throws(
      () => manager.use('redis'),
      'Invalid session config in "config/session.ts": there is no store named "redis". Choose one of: memory, cookie, file'
    )
  })

  test('prune expired sessions of the file store', async ({ assert, cleanup }) => {
    const { client, manager, close } = await createStoreApp('file', { session: { age: 1 } })
    cleanup(close)
    await client.post('/session/call', { calls: [['put', 'a', 1]] })
    await new Promise((resolve) => setTimeout(resolve, 1100))
    assert.equal(await manager.prune(), 1)
    assert.isNull(await manager.use('cookie').prune())
  })
})

test.group('SessionManager | tagging and the cookie store', () => {
  test('list a session that was tagged without any other value', async ({ assert, cleanup }) => {
    for (const store of ['memory', 'file'] as const) {
      const { manager, client, close } = await createStoreApp(store, {
        routes: (router) => {
          router.get('/tag-only', async ({ session }) => {
            await session.tag('tag-only-user')
            return { id: session.sessionId }
          })
        },
      })
      cleanup(close)
      const { id } = (await client.get('/tag-only')).json()
      const sessions = await manager.tagged('tag-only-user')
      assert.deepEqual(
        sessions.map((session) => session.id),
        [id],
        store
      )
      assert.deepEqual(Object.getOwnPropertySymbols(sessions[0].data), [], store)
    }
  })

  test('refuse to read or destroy cookie-store sessions outside HTTP, saying why', async ({
    assert,
    cleanup,
  }) => {
    const { manager, close } = await createStoreApp('cookie')
    cleanup(close)
    await assert.rejects(
      () => manager.read('abcdefghijklmnopqrstuvwx'),
      /cookie session store keeps sessions in the browser/
    )
    await assert.rejects(
      () => manager.destroy('abcdefghijklmnopqrstuvwx'),
      /cookie session store keeps sessions in the browser/
    )
  })
})
