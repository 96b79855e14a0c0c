import { test } from '@japa/runner'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Router } from '@adonisjs/core/http'
import type { CookieClient } from '../../tests_helpers/index.js'
import {
  assertAvailable,
  bootSecurityApp,
  captureJar,
  cookieNames,
  COOKIE_NAME,
  sessionIdOf,
  skipUnlessAvailable,
  storeCases,
  type StoreCall,
} from './helpers.js'

const ALL_STORES = await storeCases(['cookie', 'memory', 'file', 'redis', 'database', 'dynamodb'])
const SERVER_STORES = ALL_STORES.filter(({ name }) => name !== 'cookie')

/**
 * Handlers held until the test releases them, to order parallel requests.
 */
const held: (() => void)[] = []

/**
 * Wait until `count` handlers are held.
 */
async function untilHeld(count: number) {
  while (held.length < count) await sleep(5)
}

/**
 * Let every held handler go on.
 */
function releaseAll() {
  for (const release of held.splice(0)) release()
}

/**
 * Routes of the persistence tests.
 */
function persistenceRoutes(router: Router) {
  router.post('/slow-put', async ({ session, request }) => {
    await new Promise<void>((resolve) => held.push(resolve))
    session.put(request.body())
    return { ok: true }
  })
  router.post('/save', ({ session, request, response }) => {
    session.put('saved', request.input('value'))
    response.redirect('/show')
  })
  router.get('/show', ({ session }) => ({ saved: session.get('saved') }))
  router.post('/flash', ({ session }) => {
    session.flash('notice', 'saved!')
    return { ok: true }
  })
  router.get('/flash-read', ({ session }) => ({ flash: session.flashMessages.all() }))
  router.get('/health', () => ({ ok: true }))
  router.get('/assets/:file', ({ params }) => ({ file: params.file }))
  router.get('/public/status', () => ({ ok: true }))
  router.get('/ws', async ({ session }) => {
    await session.initiate(true)
    let code: string | undefined
    try {
      session.put('changed', true)
    } catch (error) {
      code = (error as { code?: string }).code
    }
    await session.commit()
    return { secret: session.get('secret'), code }
  })
}

/**
 * The store calls except reads, by method.
 */
function writesIn(calls: StoreCall[]): string[] {
  return calls.filter((call) => call.method !== 'read').map((call) => call.method)
}

/**
 * Follow a redirect at once with the same client, like a browser.
 */
async function follow(client: CookieClient, response: { headers: Headers }) {
  return client.get(response.headers.get('location')!)
}

test.group('security | persistence, concurrency, cost', () => {
  for (const { name, availability } of ALL_STORES) {
    test(`P1: a read-only request on the ${name} store writes no payload`, async ({
      assert,
      cleanup,
    }) => {
      assertAvailable(availability)
      const calls: StoreCall[] = []
      const app = await bootSecurityApp({ store: name, calls })
      cleanup(() => app.close())
      const client = app.client()
      await client.post('/put', { a: 1 })
      const id = sessionIdOf(client)!
      const before = name === 'cookie' ? null : await app.backend.raw(id)
      calls.length = 0
      const response = await client.get('/read')
      assert.deepEqual(response.json().values, { a: 1 })
      assert.notIncludeMembers(writesIn(calls), ['write', 'merge', 'destroy'])
      assert.includeMembers(['touch'], writesIn(calls))
      if (name === 'cookie') {
        assert.deepEqual(cookieNames(response.setCookies), [])
      } else {
        assert.equal(await app.backend.raw(id), before)
      }
    }).skip(skipUnlessAvailable(availability), availability.reason)
  }

  for (const name of ['cookie', 'memory'] as const) {
    test(`P2: in consent mode an empty ${name} session is neither stored nor given a cookie`, async ({
      assert,
      cleanup,
    }) => {
      const calls: StoreCall[] = []
      const app = await bootSecurityApp({
        store: name,
        calls,
        session: { saveUninitialized: false },
        routes: persistenceRoutes,
      })
      cleanup(() => app.close())
      const client = app.client()
      for (const path of ['/read', '/flash-read', '/read']) {
        const response = await client.get(path)
        assert.equal(response.status, 200)
        assert.deepEqual(response.setCookies, [], path)
      }
      assert.deepEqual(calls, [])
      const written = await client.post('/put', { consented: true })
      assert.include(cookieNames(written.setCookies), COOKIE_NAME)
      assert.deepEqual((await client.get('/read')).json().values, { consented: true })
    })
  }

  for (const { name, availability } of SERVER_STORES) {
    test(`P3: a client following a 302 at once sees the new value, even with a ${name} store that takes 200 ms to write`, async ({
      assert,
      cleanup,
    }) => {
      assertAvailable(availability)
      const app = await bootSecurityApp({
        store: name,
        calls: [],
        wrap: { delays: { write: 200, merge: 200 } },
        routes: persistenceRoutes,
      })
      cleanup(() => app.close())
      const client = app.client()
      for (const value of ['first', 'second']) {
        const startedAt = Date.now()
        const redirect = await client.request('/save', { method: 'POST', form: { value } })
        assert.equal(redirect.status, 302)
        assert.isAtLeast(Date.now() - startedAt, 195)
        assert.deepEqual((await follow(client, redirect)).json(), { saved: value })
      }
    }).skip(skipUnlessAvailable(availability), availability.reason)
  }

  for (const { name, availability } of SERVER_STORES) {
    test(`P4: parallel requests that change different keys keep both changes on the ${name} store`, async ({
      assert,
      cleanup,
    }) => {
      assertAvailable(availability)
      const app = await bootSecurityApp({ store: name, routes: persistenceRoutes })
      cleanup(() => app.close())
      const client = app.client()
      await client.post('/put', { start: true })
      const slow = client.post('/slow-put', { a: 1 })
      await untilHeld(1)
      await client.post('/put', { b: 2 })
      releaseAll()
      await slow
      assert.deepEqual((await client.get('/read')).json().values, { start: true, a: 1, b: 2 })
    }).skip(skipUnlessAvailable(availability), availability.reason)

    test(`P4: a slow request that started before a logout does not bring the ${name} session back`, async ({
      assert,
      cleanup,
    }) => {
      assertAvailable(availability)
      const app = await bootSecurityApp({ store: name, routes: persistenceRoutes })
      cleanup(() => app.close())
      const client = app.client()
      await client.post('/login', { user: '7' })
      const id = sessionIdOf(client)!
      const captured = captureJar(client)
      const slow = captured.post('/slow-put', { late: true })
      await untilHeld(1)
      await client.post('/logout')
      releaseAll()
      assert.equal((await slow).status, 200)
      assert.isNull(await app.backend.raw(id))
      assert.deepEqual((await captured.get('/read')).json(), { values: {}, fresh: true })
      assert.deepEqual((await client.get('/read')).json(), { values: {}, fresh: true })
    }).skip(skipUnlessAvailable(availability), availability.reason)
  }

  test('P4: on the cookie store the response that arrives last decides what the browser keeps', async ({
    assert,
    cleanup,
  }) => {
    const app = await bootSecurityApp({ store: 'cookie', routes: persistenceRoutes })
    cleanup(() => app.close())
    const client = app.client()
    await client.post('/login', { user: '7' })
    const slow = client.post('/slow-put', { late: true })
    await untilHeld(1)
    await client.post('/logout')
    assert.deepEqual((await client.get('/read')).json(), { values: {}, fresh: true })
    releaseAll()
    await slow
    assert.deepEqual((await client.get('/read')).json().values, { user: '7', late: true })
  })

  test('P5: skipped routes touch no store, set no cookie and do not age flash messages', async ({
    assert,
    cleanup,
  }) => {
    const calls: StoreCall[] = []
    const app = await bootSecurityApp({
      store: 'file',
      calls,
      session: { skip: ['/health', '/assets/*'] },
      routes: persistenceRoutes,
    })
    cleanup(() => app.close())
    const client = app.client()
    await client.post('/flash')
    calls.length = 0
    for (const path of ['/health', '/assets/app.js', '/health']) {
      const response = await client.get(path)
      assert.equal(response.status, 200)
      assert.deepEqual(response.setCookies, [], path)
    }
    assert.deepEqual(calls, [])
    assert.deepEqual((await client.get('/flash-read')).json(), { flash: { notice: 'saved!' } })
    assert.deepEqual((await client.get('/flash-read')).json(), { flash: {} })
  })

  test('P5: a skip predicate opts requests out the same way', async ({ assert, cleanup }) => {
    const calls: StoreCall[] = []
    const app = await bootSecurityApp({
      store: 'memory',
      calls,
      session: { skip: (ctx) => ctx.request.url().startsWith('/public/') },
      routes: persistenceRoutes,
    })
    cleanup(() => app.close())
    const client = app.client()
    await client.post('/put', { a: 1 })
    calls.length = 0
    const response = await client.get('/public/status')
    assert.deepEqual(response.setCookies, [])
    assert.deepEqual(calls, [])
  })

  for (const { name, availability } of ALL_STORES.filter((entry) =>
    ['file', 'redis'].includes(entry.name)
  )) {
    test(`P6: a readonly session on the ${name} store reads, refuses mutations and writes or touches nothing`, async ({
      assert,
      cleanup,
    }) => {
      assertAvailable(availability)
      const calls: StoreCall[] = []
      const app = await bootSecurityApp({
        store: name,
        calls,
        session: { skip: ['/ws'] },
        routes: persistenceRoutes,
      })
      cleanup(() => app.close())
      const client = app.client()
      await client.post('/put', { secret: 'readable' })
      const id = sessionIdOf(client)!
      const before = await app.backend.raw(id)
      await sleep(1100)
      const expiresBefore = await app.backend.expiresAt(id)
      calls.length = 0
      const response = await client.get('/ws')
      assert.deepEqual(response.json(), { secret: 'readable', code: 'E_SESSION_NOT_MUTABLE' })
      assert.deepEqual(response.setCookies, [])
      assert.deepEqual(
        calls.map((call) => call.method),
        [name === 'redis' ? 'peek' : 'read']
      )
      assert.equal(await app.backend.raw(id), before)
      assert.closeTo((await app.backend.expiresAt(id))!, expiresBefore!, 999)
    }).skip(skipUnlessAvailable(availability), availability.reason)
  }
})
