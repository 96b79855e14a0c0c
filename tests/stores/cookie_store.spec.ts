import { test } from '@japa/runner'
import { storeConformanceSuite, newSessionId } from '../../factories/store_conformance.js'
import { defineConfig, stores } from '../../src/define_config.js'
import { KeyRing } from '../../src/key_ring.js'
import { CookieStoreHarness } from '../../tests_helpers/cookie_store_harness.js'
import { CookieClient, createTestApp } from '../../tests_helpers/index.js'
import { TEST_APP_KEY } from '../../tests_helpers/http_context.js'
import { adonisMajor } from '../../tests_helpers/framework.js'

storeConformanceSuite({
  name: 'CookieStore',
  createStore: (age) => new CookieStoreHarness(age),
})

/**
 * An app on the cookie store with routes to put, read and regenerate.
 */
async function cookieApp() {
  return createTestApp({
    session: defineConfig({ store: 'cookie', stores: { cookie: stores.cookie() } }),
    routes(router) {
      router.post('/put', ({ session, request }) => {
        session.put(request.input('key'), request.input('value'))
        return { id: session.sessionId }
      })
      router.get('/all', ({ session }) => ({ id: session.sessionId, values: session.all() }))
      router.post('/login', ({ session }) => {
        session.regenerate()
        return { id: session.sessionId }
      })
      router.post('/tag', async ({ session }) => {
        await session.tag(1)
      })
    },
  })
}

/**
 * The Set-Cookie line of a cookie, by name.
 */
function lineOf(lines: string[], name: string): string | undefined {
  return lines.find((line) => line.startsWith(`${name}=`))
}

test.group('CookieStore | through HTTP', () => {
  test('keep the data in an encrypted cookie named after the session id', async ({
    assert,
    cleanup,
  }) => {
    const { url, manager, close } = await cookieApp()
    cleanup(close)
    const client = new CookieClient(url)
    const response = await client.post('/put', { key: 'secret', value: 'hunter2' })
    const id = response.json().id
    const line = lineOf(response.setCookies, id)!
    assert.match(line, new RegExp(`^${id}=e%3A`))
    assert.include(line.split('; '), 'HttpOnly')
    assert.notInclude(decodeURIComponent(line), 'hunter2')
    const sealed = decodeURIComponent(line.split(';')[0].slice(id.length + 1))
    assert.deepInclude(manager.cookies.keyRing.decrypt(sealed, id)?.value, {
      secret: 'hunter2',
    })
  })

  test('read a session sealed in the adonisjs 6 format and re-seal it as the app does', async ({
    assert,
    cleanup,
  }) => {
    const { url, manager, close } = await cookieApp()
    cleanup(close)
    const id = 'upgraded-session-0123456789'
    const legacy = new KeyRing([TEST_APP_KEY])
    const client = new CookieClient(url)
    client.jar.set('adonis_session', encodeURIComponent(legacy.sign(id, 'adonis_session')))
    client.jar.set(id, encodeURIComponent(legacy.encrypt({ cart: [1, 2] }, id)))

    const read = await client.get('/all')
    assert.deepEqual(read.json(), { id, values: { cart: [1, 2] } })
    const resealed = decodeURIComponent(
      lineOf(read.setCookies, id)!
        .split(';')[0]
        .slice(id.length + 1)
    )
    assert.deepInclude(manager.cookies.keyRing.decrypt(resealed, id)?.value, { cart: [1, 2] })
    assert.equal(legacy.decrypt(resealed, id) === null, adonisMajor === 7)
  })

  test('fail the commit with E_SESSION_COOKIE_TOO_LARGE and send no oversized cookie', async ({
    assert,
    cleanup,
  }) => {
    const { url, close } = await cookieApp()
    cleanup(close)
    const client = new CookieClient(url)
    await client.post('/put', { key: 'small', value: 'kept' })
    const response = await client.post('/put', { key: 'big', value: 'x'.repeat(5000) })
    assert.equal(response.status, 500)
    assert.include(response.text, 'The session data cookie is')
    assert.include(response.text, 'over the 4096 bytes browsers keep')
    for (const line of response.setCookies) {
      assert.isAtMost(line.split(';')[0].length, 4096)
    }
    assert.deepInclude((await client.get('/all')).json().values, { small: 'kept' })
  })

  test('give a fresh empty session for a tampered data cookie', async ({ assert, cleanup }) => {
    const { url, close } = await cookieApp()
    cleanup(close)
    const client = new CookieClient(url)
    const id = (await client.post('/put', { key: 'a', value: 1 })).json().id
    const value = client.jar.get(id)!
    client.jar.set(id, value.slice(0, 20) + (value[20] === 'A' ? 'B' : 'A') + value.slice(21))
    const response = await client.get('/all')
    assert.equal(response.status, 200)
    assert.deepEqual(response.json().values, {})
  })

  test('clear the old data cookie and set a new one on regenerate', async ({ assert, cleanup }) => {
    const { url, close } = await cookieApp()
    cleanup(close)
    const client = new CookieClient(url)
    const oldId = (await client.post('/put', { key: 'a', value: 1 })).json().id
    const response = await client.post('/login')
    const newId = response.json().id
    assert.notEqual(newId, oldId)
    assert.match(lineOf(response.setCookies, oldId)!, /^[\w-]+=;.*Max-Age=0/)
    assert.match(lineOf(response.setCookies, newId)!, /=e%3A/)
    assert.deepEqual((await client.get('/all')).json(), { id: newId, values: { a: 1 } })
  })

  test('refuse to tag sessions with a clear error', async ({ assert, cleanup }) => {
    const { url, close } = await cookieApp()
    cleanup(close)
    const response = await new CookieClient(url).post('/tag')
    assert.equal(response.status, 500)
    assert.include(response.text, 'The "cookie" session store does not support tagging sessions')
  })

  test('read nothing for a cookie sealed for another session id', async ({ assert }) => {
    const harness = new CookieStoreHarness(60)
    const [first, second] = [newSessionId(), newSessionId()]
    await harness.write(first, { a: 1 })
    harness.jar.cookies.set(second, harness.jar.cookies.get(first)!)
    assert.isNull(await harness.read(second))
  })
})

test.group('CookieStore | size limit', () => {
  test('either send a data cookie of at most 4096 bytes or throw E_SESSION_COOKIE_TOO_LARGE', async ({
    assert,
  }) => {
    const harness = new CookieStoreHarness(60)
    const outcomes = new Set<string>()
    for (let length = 2600; length <= 3400; length += 25) {
      const id = newSessionId()
      try {
        await harness.write(id, { text: 'x'.repeat(length) })
        const value = harness.jar.cookies.get(id)!
        assert.isAtMost(id.length + 1 + value.length, 4096, `${length} characters`)
        outcomes.add('sent')
      } catch (error) {
        assert.equal(error.code, 'E_SESSION_COOKIE_TOO_LARGE')
        assert.equal(error.status, 500)
        assert.match(error.message, /^The session data cookie is \d+ bytes, over the 4096 bytes/)
        outcomes.add('refused')
      }
    }
    assert.sameMembers([...outcomes], ['sent', 'refused'])
  })
})
