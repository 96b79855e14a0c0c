import { test } from '@japa/runner'
import { setTimeout as sleep } from 'node:timers/promises'
import { Session } from '../src/session.js'
import { generateSessionId } from '../src/session_cookies.js'
import type { CookieClient } from '../tests_helpers/index.js'
import type { SessionCall } from '../tests_helpers/session_routes.js'
import { CORE_STORES, createStoreApp, readStoredData } from '../tests_helpers/store_matrix.js'

/**
 * Run calls on `ctx.session` in one request and return the JSON answer.
 */
async function call(client: CookieClient, ...calls: SessionCall[]) {
  const response = await client.post('/session/call', { calls })
  if (response.status !== 200) {
    throw new Error(`POST /session/call answered ${response.status}: ${response.text}`)
  }
  return response.json()
}

/**
 * The session state of one GET request.
 */
async function state(client: CookieClient) {
  return (await client.get('/session')).json()
}

for (const store of CORE_STORES) {
  test.group(`Session | values on the ${store} store`, () => {
    test('put, get, has, forget and pull values by dot path across requests', async ({
      assert,
      cleanup,
    }) => {
      const { client, close } = await createStoreApp(store)
      cleanup(close)
      await call(
        client,
        ['put', 'user.name', 'ada'],
        ['put', 'user.age', 36],
        ['put', 'flag', true]
      )
      const second = await call(
        client,
        ['get', 'user.name'],
        ['get', 'missing', 'fallback'],
        ['has', 'user.age'],
        ['has', 'missing'],
        ['pull', 'flag'],
        ['forget', 'user.age']
      )
      assert.deepEqual(second.results, ['ada', 'fallback', true, false, true, null])
      assert.deepEqual((await state(client)).values, { user: { name: 'ada' } })
    })

    test('flash objects twice and read both, merged deeply, on the next request', async ({
      assert,
      cleanup,
    }) => {
      const { client, close } = await createStoreApp(store)
      cleanup(close)
      await call(
        client,
        ['flash', { user: { id: 1 }, tags: ['a', 'b'] }],
        ['flash', { user: { profile: { age: 32 } }, tags: ['c'] }],
        ['flashErrors', { E_ONE: 'first' }],
        ['flashErrors', { E_TWO: 'second' }]
      )
      assert.deepEqual((await state(client)).flashMessages, {
        user: { id: 1, profile: { age: 32 } },
        tags: ['c'],
        errorsBag: { E_ONE: 'first', E_TWO: 'second' },
      })
    })

    test('put many, forget many, pick with only and except, and push to lists', async ({
      assert,
      cleanup,
    }) => {
      const { client, close } = await createStoreApp(store)
      cleanup(close)
      await call(
        client,
        ['put', { a: 1, b: 2, c: 3 }],
        ['push', 'list', 'x'],
        ['push', 'list', 'y']
      )
      const second = await call(
        client,
        ['forget', ['a', 'b']],
        ['only', ['c', 'list', 'missing']],
        ['except', ['list']]
      )
      assert.deepEqual(second.results.slice(1), [{ c: 3, list: ['x', 'y'] }, { c: 3 }])
      assert.deepEqual((await state(client)).values, { c: 3, list: ['x', 'y'] })
    })

    test('increment and decrement numbers, from 0 when missing', async ({ assert, cleanup }) => {
      const { client, close } = await createStoreApp(store)
      cleanup(close)
      await call(client, ['increment', 'visits'], ['increment', 'visits', 4])
      await call(client, ['decrement', 'credits', 2], ['increment', 'visits'])
      assert.deepEqual((await state(client)).values, { visits: 6, credits: -2 })
    })

    test('refuse to increment a value that is not a number, naming the key', async ({
      assert,
      cleanup,
    }) => {
      const { client, close } = await createStoreApp(store)
      cleanup(close)
      await call(client, ['put', 'profile.name', 'ada'])
      const response = await client.post('/session/call', {
        calls: [['increment', 'profile.name']],
      })
      assert.equal(response.status, 500)
      assert.include(
        response.text,
        'Cannot increment or decrement the session key "profile.name": it holds a string, not a number'
      )
      assert.deepEqual((await state(client)).values, { profile: { name: 'ada' } })
    })

    test('clear removes every value', async ({ assert, cleanup }) => {
      const { client, close } = await createStoreApp(store)
      cleanup(close)
      await call(client, ['put', { a: 1, b: 2 }])
      await call(client, ['clear'])
      const after = await state(client)
      assert.deepEqual(after.values, {})
      assert.isTrue(after.isEmpty)
    })

    test('store values as JSON: Dates come back as ISO strings, BigInt is refused', async ({
      assert,
      cleanup,
    }) => {
      const { client, close } = await createStoreApp(store, {
        routes(router) {
          router.post('/date', ({ session }) => {
            session.put('at', new Date('2024-01-02T03:04:05.000Z'))
          })
          router.post('/bigint', ({ session }) => {
            session.put('big', 10n as any)
          })
        },
      })
      cleanup(close)
      await client.post('/date')
      assert.deepEqual((await state(client)).values, { at: '2024-01-02T03:04:05.000Z' })
      const refused = await client.post('/bigint')
      assert.equal(refused.status, 500)
      assert.include(
        refused.text,
        'Cannot store the session key "big": BigInt values cannot be stored'
      )
    })

    test('get is synchronous', async ({ assert, cleanup }) => {
      const { client, close } = await createStoreApp(store, {
        routes(router) {
          router.get('/sync', ({ session }) => {
            const value = session.get('a')
            return { isPromise: value instanceof Promise, value }
          })
        },
      })
      cleanup(close)
      await call(client, ['put', 'a', 1])
      assert.deepEqual((await client.get('/sync')).json(), { isPromise: false, value: 1 })
    })

    test('report fresh, initiated, readonly, isEmpty and hasBeenModified', async ({
      assert,
      cleanup,
    }) => {
      const { client, close } = await createStoreApp(store)
      cleanup(close)
      assert.include(await state(client), {
        fresh: true,
        initiated: true,
        readonly: false,
        isEmpty: true,
        hasBeenModified: false,
        hasRegeneratedSession: false,
      })
      const written = await call(client, ['put', 'a', 1])
      assert.include(written, { fresh: true, isEmpty: false, hasBeenModified: true })
      const read = await state(client)
      assert.include(read, { fresh: false, isEmpty: false, hasBeenModified: false })
      assert.equal(read.sessionId, written.sessionId)
    })
  })

  test.group(`Session | flash messages on the ${store} store`, () => {
    test('keep flash messages under __flash__ for the next request only', async ({
      assert,
      cleanup,
    }) => {
      const { client, manager, close } = await createStoreApp(store)
      cleanup(close)
      const first = await call(
        client,
        ['flash', 'notice', 'Saved'],
        ['flash', { level: 'info', count: 0 }],
        ['flash', 'ignored', '']
      )
      assert.deepEqual(first.flashMessages, {})
      const stored = await readStoredData(store, manager, client, first.sessionId)
      assert.deepEqual(stored, { __flash__: { notice: 'Saved', level: 'info', count: 0 } })
      const second = await state(client)
      assert.deepEqual(second.flashMessages, { notice: 'Saved', level: 'info', count: 0 })
      assert.deepEqual(second.values, {})
      assert.deepEqual((await state(client)).flashMessages, {})
    })

    test('read flash messages with get, has, all and isEmpty', async ({ assert, cleanup }) => {
      const { client, close } = await createStoreApp(store, {
        routes(router) {
          router.get('/flash-api', ({ session }) => ({
            get: session.flashMessages.get('user.name', 'none'),
            has: session.flashMessages.has('user'),
            missing: session.flashMessages.has('other'),
            isEmpty: session.flashMessages.isEmpty,
            all: session.flashMessages.all(),
          }))
        },
      })
      cleanup(close)
      await call(client, ['flash', { user: { name: 'ada' } }])
      assert.deepEqual((await client.get('/flash-api')).json(), {
        get: 'ada',
        has: true,
        missing: false,
        isEmpty: false,
        all: { user: { name: 'ada' } },
      })
      assert.include((await client.get('/flash-api')).json(), { get: 'none', isEmpty: true })
    })

    test('flash request input with flashAll, flashOnly and flashExcept, never passwords', async ({
      assert,
      cleanup,
    }) => {
      const { client, close } = await createStoreApp(store)
      cleanup(close)
      const form = { name: 'ada', email: 'ada@example.com', password: 'hunter2' }
      const submit = (calls: SessionCall[]) =>
        client.request('/session/call', {
          method: 'POST',
          form: { ...form, calls: JSON.stringify(calls) },
        })
      await submit([['flashAll']])
      const all = (await state(client)).flashMessages
      assert.include(all, { name: 'ada', email: 'ada@example.com' })
      assert.notProperty(all, 'password')
      await submit([['flashOnly', ['name', 'password']]])
      assert.deepEqual((await state(client)).flashMessages, { name: 'ada' })
      await submit([['flashAll'], ['flashExcept', ['name', 'calls']]])
      assert.deepEqual((await state(client)).flashMessages, { email: 'ada@example.com' })
    })

    test('flash JSON input holding a "__proto__" key as plain data, never as a prototype', async ({
      assert,
      cleanup,
    }) => {
      const { client, close } = await createStoreApp(store)
      cleanup(close)
      const flashed = await client.request('/session/call', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"name":"ada","__proto__":{"polluted":true},"calls":[["flashAll"]]}',
      })
      assert.equal(flashed.status, 200)
      const { flashMessages } = await state(client)
      assert.equal(flashMessages.name, 'ada')
      assert.isUndefined(flashMessages.polluted)
      assert.isUndefined(({} as any).polluted)
    })

    test('carry the previous messages one more request with reflash, reflashOnly and reflashExcept', async ({
      assert,
      cleanup,
    }) => {
      const { client, close } = await createStoreApp(store)
      cleanup(close)
      await call(client, ['flash', { a: 1, b: 2, c: 3 }])
      await call(client, ['reflash'])
      assert.deepEqual((await call(client, ['reflashOnly', ['a', 'b']])).flashMessages, {
        a: 1,
        b: 2,
        c: 3,
      })
      await call(client, ['reflashExcept', ['a']])
      assert.deepEqual((await state(client)).flashMessages, { b: 2 })
      assert.deepEqual((await state(client)).flashMessages, {})
    })

    test('reflash only or all but some dot paths, as lodash pick and omit do', async ({
      assert,
      cleanup,
    }) => {
      const { client, close } = await createStoreApp(store)
      cleanup(close)
      const messages = { errors: { email: 'Taken', name: 'Short' }, form: { password: 'x', a: 1 } }
      await call(client, ['flash', messages])
      await call(client, ['reflashOnly', ['errors.email', 'form.missing']])
      assert.deepEqual((await state(client)).flashMessages, { errors: { email: 'Taken' } })
      await call(client, ['flash', messages])
      await call(client, ['reflashExcept', ['form.password', 'errors']])
      assert.deepEqual((await state(client)).flashMessages, { form: { a: 1 } })
    })

    test('keep some of the previous messages with keep', async ({ assert, cleanup }) => {
      const { client, close } = await createStoreApp(store)
      cleanup(close)
      await call(client, ['flash', { error: 'Nope', notice: 'Saved' }])
      await call(client, ['keep', ['error']], ['flash', 'extra', 'new'])
      assert.deepEqual((await state(client)).flashMessages, { error: 'Nope', extra: 'new' })
    })
  })

  test.group(`Session | lifecycle on the ${store} store`, () => {
    test('regenerate gives a new id at commit, keeps the data and destroys the old id', async ({
      assert,
      cleanup,
    }) => {
      const { client, manager, close } = await createStoreApp(store)
      cleanup(close)
      const oldId = (await call(client, ['put', 'user', 1])).sessionId
      const beforeLogin = new Map(client.jar)
      const login = await call(client, ['regenerate'])
      assert.notEqual(login.sessionId, oldId)
      assert.isTrue(login.hasRegeneratedSession)
      assert.isNull(await readStoredData(store, manager, client, oldId))
      assert.deepEqual(await readStoredData(store, manager, client, login.sessionId), { user: 1 })
      assert.include(await state(client), { sessionId: login.sessionId, fresh: false })
      if (store !== 'cookie') {
        client.jar = beforeLogin
        assert.deepEqual((await state(client)).values, {})
      }
    })

    test('invalidate clears the data and the id: the old cookie opens nothing', async ({
      assert,
      cleanup,
    }) => {
      const { client, manager, close } = await createStoreApp(store)
      cleanup(close)
      const oldId = (await call(client, ['put', 'user', 1])).sessionId
      const beforeLogout = new Map(client.jar)
      const logout = await call(client, ['invalidate'])
      assert.deepEqual(logout.values, {})
      const after = await state(client)
      assert.deepEqual(after.values, {})
      assert.notEqual(after.sessionId, oldId)
      assert.isNull(await readStoredData(store, manager, client, oldId))
      if (store !== 'cookie') {
        client.jar = beforeLogout
        assert.deepEqual((await state(client)).values, {})
      }
    })

    test('start a fresh empty session once the session expired', async ({ assert, cleanup }) => {
      const { client, close } = await createStoreApp(store, { session: { age: 1 } })
      cleanup(close)
      await call(client, ['put', 'a', 1])
      await sleep(1100)
      const response = await client.get('/session')
      assert.equal(response.status, 200)
      assert.include(response.json(), { fresh: true, isEmpty: true })
    })

    test('start a fresh empty session for a missing, garbage, unsigned or tampered id cookie', async ({
      assert,
      cleanup,
    }) => {
      const { client, close } = await createStoreApp(store)
      cleanup(close)
      const oldId = (await call(client, ['put', 'a', 1])).sessionId
      const signed = decodeURIComponent(client.jar.get('adonis_session')!)
      const tampered = signed.slice(0, -2) + (signed.at(-2) === 'A' ? 'B' : 'A') + signed.at(-1)
      const others = [...client.jar].filter(([name]) => name !== 'adonis_session')
      for (const idCookie of [
        undefined,
        'garbage',
        oldId,
        's:eyJtZXNzYWdlIjoiYSJ9.bad',
        tampered,
        'x'.repeat(5000),
      ]) {
        const pairs = [
          ...others,
          ...(idCookie ? [['adonis_session', encodeURIComponent(idCookie)]] : []),
        ]
        const response = await client.get('/session', {
          cookie: pairs.map(([name, value]) => `${name}=${value}`).join('; '),
        })
        assert.equal(response.status, 200, String(idCookie))
        assert.include(response.json(), { fresh: true, isEmpty: true }, String(idCookie))
        assert.notEqual(response.json().sessionId, oldId)
      }
    })

    test('emit session:initiated, session:committed and session:migrated', async ({
      assert,
      cleanup,
    }) => {
      const { app, client, close } = await createStoreApp(store)
      cleanup(close)
      const emitter = await app.container.make('emitter')
      const events: { name: string; data: any }[] = []
      for (const name of ['session:initiated', 'session:committed', 'session:migrated'] as const) {
        emitter.on(name, (data: any) => {
          events.push({ name, data })
        })
      }
      const oldId = (await call(client, ['put', 'a', 1])).sessionId
      const newId = (await call(client, ['regenerate'])).sessionId
      assert.deepEqual(
        events.map((event) => event.name),
        [
          'session:initiated',
          'session:committed',
          'session:initiated',
          'session:migrated',
          'session:committed',
        ]
      )
      assert.instanceOf(events[0].data.session, Session)
      assert.include(events[3].data, { fromSessionId: oldId, toSessionId: newId })
      assert.equal(events[3].data.session.sessionId, newId)
    })

    test('read a readonly session but refuse every write with E_SESSION_NOT_MUTABLE', async ({
      assert,
      cleanup,
    }) => {
      const { client, close } = await createStoreApp(store, {
        routes(router, app) {
          router.post('/readonly', async (ctx) => {
            const manager = await app.container.make('session.manager')
            const session = manager.create(ctx)
            await session.initiate(true)
            const refused: string[] = []
            for (const write of [
              () => session.put('a', 2),
              () => session.forget('a'),
              () => session.flash('n', 'x'),
              () => session.regenerate(),
              () => session.clear(),
            ]) {
              try {
                write()
              } catch (error) {
                refused.push(error.code)
              }
            }
            await session.commit()
            return { readonly: session.readonly, a: session.get('a'), refused }
          })
        },
      })
      cleanup(close)
      await call(client, ['put', 'a', 1])
      const response = (await client.post('/readonly')).json()
      assert.deepEqual(response, {
        readonly: true,
        a: 1,
        refused: Array(5).fill('E_SESSION_NOT_MUTABLE'),
      })
      assert.deepEqual((await state(client)).values, { a: 1 })
    })
  })
}

test.group('Session | ids and readiness', () => {
  test('generate 10k unique URL-safe ids of 144 random bits', ({ assert }) => {
    const ids = new Set(Array.from({ length: 10_000 }, () => generateSessionId()))
    assert.equal(ids.size, 10_000)
    for (const id of ids) {
      assert.match(id, /^[A-Za-z0-9_-]{24}$/)
    }
  })

  test('send the id in a signed cookie', async ({ assert, cleanup }) => {
    const { client, close } = await createStoreApp('memory')
    cleanup(close)
    const { sessionId } = await call(client, ['put', 'a', 1])
    const cookie = decodeURIComponent(client.jar.get('adonis_session')!)
    assert.match(cookie, /^s:[\w-]+\.[\w-]+$/)
    const payload = JSON.parse(Buffer.from(cookie.slice(2).split('.')[0], 'base64url').toString())
    assert.deepInclude(payload, { message: sessionId, purpose: 'adonis_session' })
    const lifetime = new Date(payload.expiryDate).getTime() - Date.now()
    assert.closeTo(lifetime, 2 * 60 * 60 * 1000, 60_000)
  })

  test('throw E_SESSION_NOT_READY when the session is used before it was initiated', async ({
    assert,
    cleanup,
  }) => {
    const { client, close } = await createStoreApp('memory', {
      routes(router, app) {
        router.get('/not-ready', async (ctx) => {
          const manager = await app.container.make('session.manager')
          return manager.create(ctx).get('a')
        })
      },
    })
    cleanup(close)
    const response = await client.get('/not-ready')
    assert.equal(response.status, 500)
    assert.include(response.text, 'Session store has not been initiated')
  })
})

test.group('Session | untag and supportsTagging', () => {
  test('untag removes the link to the given user only, or any link without one', async ({
    assert,
    cleanup,
  }) => {
    const { client, manager, close } = await createStoreApp('memory')
    cleanup(close)
    const tagged = await client.post('/session/call', { calls: [['tag', 7]] })
    const id = tagged.json().sessionId
    assert.deepEqual(
      (await manager.tagged(7)).map((session) => session.id),
      [id]
    )

    await client.post('/session/call', { calls: [['untag', 8]] })
    assert.deepEqual(
      (await manager.tagged(7)).map((session) => session.id),
      [id]
    )
    await client.post('/session/call', { calls: [['untag', 7]] })
    assert.deepEqual(await manager.tagged(7), [])

    await client.post('/session/call', { calls: [['tag', 9]] })
    await client.post('/session/call', { calls: [['untag']] })
    assert.deepEqual(await manager.tagged(9), [])
  })

  test('supportsTagging tells whether the store can link sessions to users', async ({
    assert,
    cleanup,
  }) => {
    for (const [store, expected] of [
      ['memory', true],
      ['cookie', false],
    ] as const) {
      const { client, close } = await createStoreApp(store)
      cleanup(close)
      const response = await client.post('/session/call', { calls: [['supportsTagging']] })
      assert.deepEqual(response.json().results, [expected], store)
    }
  })
})
