import { test } from '@japa/runner'
import { setTimeout as sleep } from 'node:timers/promises'
import { defineConfig, stores } from '../../src/define_config.js'
import { generateSessionId } from '../../src/session_cookies.js'
import type { CookieClient } from '../../tests_helpers/index.js'
import {
  assertAvailable,
  bootSecurityApp,
  captureJar,
  ON_CI,
  sessionIdOf,
  setCookieOf,
  skipUnlessAvailable,
  storeCases,
  type StoreCall,
} from './helpers.js'

const ALL_STORES = await storeCases(['cookie', 'memory', 'file', 'redis', 'database', 'dynamodb'])
const SERVER_STORES = ALL_STORES.filter(({ name }) => name !== 'cookie')

/**
 * Routes for tagging tests: regenerate only, and tag without the standard login.
 */
function taggingRoutes(router: import('@adonisjs/core/http').Router) {
  router.post('/regenerate', ({ session }) => {
    session.regenerate()
    return { ok: true }
  })
  router.post('/tag', async ({ session }) => {
    try {
      await session.tag('7')
      return { tagged: true }
    } catch (error) {
      return { code: (error as { code?: string }).code, message: (error as Error).message }
    }
  })
}

/**
 * The values a client's session holds now (a GET /read).
 */
async function valuesOf(client: CookieClient) {
  return (await client.get('/read')).json()
}

test.group('security | lifecycle', () => {
  for (const { name, availability } of ALL_STORES) {
    test(`L1: login on the ${name} store gives a new id, deletes the old one in the same commit and keeps the data`, async ({
      assert,
      cleanup,
    }) => {
      assertAvailable(availability)
      const calls: StoreCall[] = []
      const app = await bootSecurityApp({ store: name, calls })
      cleanup(() => app.close())
      const client = app.client()
      await client.post('/put', { cart: 3 })
      const oldId = sessionIdOf(client)!
      const beforeLogin = captureJar(client)
      calls.length = 0
      const login = await client.post('/login', { user: '7' })
      const newId = sessionIdOf(client)!
      assert.notEqual(newId, oldId)
      assert.deepInclude(calls, { method: 'destroy', sessionId: oldId })
      assert.deepEqual((await valuesOf(client)).values, { cart: 3, user: '7' })
      if (name === 'cookie') {
        assert.match(setCookieOf(login.setCookies, oldId)!, /^[^=]+=;.*Max-Age=0/)
      } else {
        assert.isNull(await app.manager.read(oldId))
        assert.isNull(await app.backend.raw(oldId))
      }
      assert.notProperty((await valuesOf(beforeLogin)).values, 'user')
    }).skip(skipUnlessAvailable(availability), availability.reason)
  }

  for (const { name, availability } of SERVER_STORES) {
    test(`L2: after logout on the ${name} store, replaying the old cookie gives an empty session`, async ({
      assert,
      cleanup,
    }) => {
      assertAvailable(availability)
      const app = await bootSecurityApp({ store: name })
      cleanup(() => app.close())
      const client = app.client()
      await client.post('/login', { user: '7' })
      const id = sessionIdOf(client)!
      const captured = captureJar(client)
      await client.post('/logout')
      assert.isNull(await app.backend.raw(id))
      assert.deepEqual(await valuesOf(captured), { values: {}, fresh: true })
    }).skip(skipUnlessAvailable(availability), availability.reason)
  }

  test('L3: without revocation, a captured cookie store cookie stays valid until it expires', async ({
    assert,
    cleanup,
  }) => {
    const app = await bootSecurityApp({ store: 'cookie' })
    cleanup(() => app.close())
    const client = app.client()
    await client.post('/login', { user: '7' })
    const captured = captureJar(client)
    await client.post('/logout')
    assert.deepEqual(await valuesOf(client), { values: {}, fresh: true })
    assert.deepEqual((await valuesOf(captured)).values, { user: '7' })
  })

  test('L3: with cookieRevocation, a replayed cookie tagged before the user revoked gets a fresh session', async ({
    assert,
    cleanup,
  }) => {
    const validAfter = new Map<string, Date>()
    const app = await bootSecurityApp({
      store: 'cookie',
      session: { cookieRevocation: { validAfter: async (userId) => validAfter.get(userId) } },
    })
    cleanup(() => app.close())
    const client = app.client()
    await client.post('/login', { user: '7' })
    const captured = captureJar(client)
    const id = sessionIdOf(captured)!
    assert.deepEqual((await valuesOf(captured)).values, { user: '7' })

    await sleep(5)
    validAfter.set('7', new Date())
    const replay = await captured.get('/read')
    assert.deepEqual(replay.json(), { values: {}, fresh: true })
    assert.match(setCookieOf(replay.setCookies, id)!, /^[^=]+=;.*Max-Age=0/)
    assert.deepEqual(await valuesOf(client), { values: {}, fresh: true })

    await client.post('/login', { user: '7' })
    assert.deepEqual((await valuesOf(client)).values, { user: '7' })
    const other = app.client()
    await other.post('/login', { user: '8' })
    assert.deepEqual((await valuesOf(other)).values, { user: '8' })
  })

  test('L3: cookieRevocation needs a validAfter function', ({ assert }) => {
    assert.throws(
      () =>
        defineConfig({
          store: 'cookie',
          stores: { cookie: stores.cookie() },
          cookieRevocation: {} as any,
        }),
      /"cookieRevocation.validAfter" must be a function/
    )
  })

  test('L4: the idle timeout is enforced on the server for every store, the cookie store included', async ({
    assert,
    cleanup,
  }) => {
    const runnable = ALL_STORES.filter(({ availability }) => availability.available || ON_CI)
    const outcomes = await Promise.all(
      runnable.map(async ({ name, availability }) => {
        assertAvailable(availability)
        const app = await bootSecurityApp({ store: name, session: { age: 1 } })
        cleanup(() => app.close())
        const client = app.client()
        await client.post('/put', { secret: name })
        const captured = captureJar(client)
        const alive = (await valuesOf(captureJar(client))).values
        await sleep(1300)
        return { name, alive, replayed: await valuesOf(captured) }
      })
    )
    for (const { name, alive, replayed } of outcomes) {
      assert.deepEqual(alive, { secret: name }, name)
      assert.deepEqual(replayed, { values: {}, fresh: true }, name)
    }
  }).timeout(20_000)

  test('L5: maxLifetime ends a session however it is touched, rolled or regenerated', async ({
    assert,
    cleanup,
  }) => {
    const runnable = ALL_STORES.filter(({ availability }) => availability.available || ON_CI)
    const outcomes = await Promise.all(
      runnable.map(async ({ name, availability }) => {
        assertAvailable(availability)
        const app = await bootSecurityApp({ store: name, session: { maxLifetime: 2, age: 3600 } })
        cleanup(() => app.close())
        const client = app.client()
        const sentAt = Date.now()
        await client.post('/put', { secret: name })
        const createdBy = Date.now()
        for (const step of ['/read', '/put', '/login', '/read', '/put']) {
          await sleep(200)
          const method = step === '/read' ? 'GET' : 'POST'
          const response = await client.request(step, {
            method,
            body: method === 'POST' ? { step } : undefined,
          })
          assert.equal(response.status, 200)
        }
        const alive = await valuesOf(client)
        const aliveAfter = Date.now() - sentAt
        await sleep(Math.max(0, createdBy + 2050 - Date.now()))
        return { name, alive, aliveAfter, ended: await valuesOf(client) }
      })
    )
    for (const { name, alive, aliveAfter, ended } of outcomes) {
      assert.isBelow(aliveAfter, 2000, `${name} checked in time`)
      assert.equal(alive.values.secret, name)
      assert.deepEqual(ended, { values: {}, fresh: true }, name)
    }
  }).timeout(20_000)

  for (const { name, availability } of SERVER_STORES) {
    test(`L6: touch never revives an expired ${name} session`, async ({ assert, cleanup }) => {
      assertAvailable(availability)
      const app = await bootSecurityApp({ store: name, session: { age: 1 } })
      cleanup(() => app.close())
      const store = app.manager.store()
      const id = generateSessionId()
      await store.write(id, { a: 1 })
      if (app.backend.expire) {
        await app.backend.expire(id)
      } else {
        await sleep(1200)
      }
      await store.touch(id)
      assert.isNull(await store.read(id))
      const expiresAt = await app.backend.expiresAt(id)
      assert.isTrue(expiresAt === null || expiresAt <= Date.now(), 'the expiry stays in the past')
    }).skip(skipUnlessAvailable(availability), availability.reason)
  }

  test('L6: an age below one second fails at boot, so no store gets a zero or negative TTL', ({
    assert,
  }) => {
    for (const age of [0, 0.5, -10, '0s', '500ms', '-1h']) {
      assert.throws(
        () =>
          defineConfig({ store: 'file', stores: { file: stores.file({ location: 'x' }) }, age }),
        /"age"/
      )
    }
  })

  for (const { name, availability } of SERVER_STORES) {
    test(`L7: touch on the ${name} store changes only the expiry, never the payload`, async ({
      assert,
      cleanup,
    }) => {
      assertAvailable(availability)
      const app = await bootSecurityApp({ store: name, session: { age: 60 } })
      cleanup(() => app.close())
      const store = app.manager.store()
      const id = generateSessionId()
      await store.write(id, { a: 1, nested: { b: [1, 2] } })
      const before = await app.backend.raw(id)
      const expiresBefore = await app.backend.expiresAt(id)
      await sleep(30)
      await store.touch(id)
      assert.equal(await app.backend.raw(id), before)
      if (expiresBefore !== null) {
        assert.isAbove((await app.backend.expiresAt(id))!, expiresBefore)
      }
    }).skip(skipUnlessAvailable(availability), availability.reason)
  }

  for (const { name, availability } of SERVER_STORES) {
    test(`L8: a user's other sessions on the ${name} store can be listed and ended`, async ({
      assert,
      cleanup,
    }) => {
      assertAvailable(availability)
      const app = await bootSecurityApp({ store: name })
      cleanup(() => app.close())
      const [laptop, phone, stranger] = [app.client(), app.client(), app.client()]
      await laptop.post('/login', { user: '7' })
      await phone.post('/login', { user: '7' })
      await stranger.post('/login', { user: '8' })
      const listed = (await app.manager.tagged('7')).map((session) => session.id)
      assert.sameMembers(listed, [sessionIdOf(laptop)!, sessionIdOf(phone)!])
      assert.equal(await app.manager.destroyTagged('7', { except: sessionIdOf(laptop) }), 1)
      assert.deepEqual(await valuesOf(phone), { values: {}, fresh: true })
      assert.deepEqual((await valuesOf(laptop)).values, { user: '7' })
      assert.deepEqual((await valuesOf(stranger)).values, { user: '8' })
    }).skip(skipUnlessAvailable(availability), availability.reason)
  }

  test('L8: the cookie store raises a clear not-supported error for listing, ending and tagging', async ({
    assert,
    cleanup,
  }) => {
    const app = await bootSecurityApp({ store: 'cookie', routes: taggingRoutes })
    cleanup(() => app.close())
    const message =
      'The "cookie" session store does not support tagging sessions. Use the memory, file, redis, dynamodb or database store to list and end a user\'s sessions'
    await assert.rejects(() => app.manager.tagged('7'), message)
    await assert.rejects(() => app.manager.destroyTagged('7'), message)
    const client = app.client()
    await client.post('/put', { a: 1 })
    assert.deepEqual((await client.post('/tag')).json(), {
      code: 'E_SESSION_TAGGING_NOT_SUPPORTED',
      message,
    })
  })

  for (const { name, availability } of SERVER_STORES) {
    test(`L9: tags follow the ${name} session through regenerate`, async ({ assert, cleanup }) => {
      assertAvailable(availability)
      const app = await bootSecurityApp({ store: name, routes: taggingRoutes })
      cleanup(() => app.close())
      const client = app.client()
      await client.post('/login', { user: '7' })
      const before = sessionIdOf(client)!
      await client.post('/regenerate')
      const after = sessionIdOf(client)!
      assert.notEqual(after, before)
      const listed = (await app.manager.tagged('7')).map((session) => session.id)
      assert.deepEqual(listed, [after])
    }).skip(skipUnlessAvailable(availability), availability.reason)
  }
})
