import { test } from '@japa/runner'
import type { HttpContext, Router } from '@adonisjs/core/http'
import type { SessionManager } from '../../src/session_manager.js'
import { generateSessionId } from '../../src/session_cookies.js'
import { SessionCollection } from '../../src/session_collection.js'
import { SessionClient } from '../../src/client.js'
import {
  assertAvailable,
  bootSecurityApp,
  COOKIE_NAME,
  rawGet,
  sessionIdOf,
  signId,
  skipUnlessAvailable,
  storeCases,
  type StoreCall,
} from './helpers.js'

const ALL_STORES = await storeCases(['cookie', 'memory', 'file', 'redis', 'database', 'dynamodb'])

/**
 * Session ids as the package issues them, over HTTP, for one store.
 */
test.group('security | ids', () => {
  test('S1: 100,000 new ids are unique, 24 url-safe characters and 144 random bits', ({
    assert,
  }) => {
    const ids = new Set<string>()
    let malformed = 0
    let ones = 0
    for (let index = 0; index < 100_000; index++) {
      const id = generateSessionId()
      if (!/^[A-Za-z0-9_-]{24}$/.test(id)) malformed++
      ids.add(id)
      for (const byte of Buffer.from(id, 'base64url')) {
        ones += popcount(byte)
      }
    }
    assert.equal(malformed, 0)
    assert.equal(ids.size, 100_000)
    const ratio = ones / (100_000 * 144)
    assert.isAbove(ratio, 0.498)
    assert.isBelow(ratio, 0.502)
  })

  test('S1: ids issued over HTTP are unique and 24 characters long', async ({
    assert,
    cleanup,
  }) => {
    const app = await bootSecurityApp({ store: 'memory' })
    cleanup(() => app.close())
    const ids = new Set<string>()
    for (let index = 0; index < 50; index++) {
      const client = app.client()
      await client.post('/put', { visit: index })
      const id = sessionIdOf(client)!
      assert.lengthOf(id, 24)
      ids.add(id)
    }
    assert.equal(ids.size, 50)
  })

  test('S2: ids issued back to back share no prefix and no time component', ({ assert }) => {
    assert.isBelow(commonPrefixAverage(10_000), 0.05)
  })

  test('S2: the id cookie carries only the id, its purpose and expiry, never the user', async ({
    assert,
    cleanup,
  }) => {
    const app = await bootSecurityApp({ store: 'memory' })
    cleanup(() => app.close())
    const client = app.client()
    await client.request('/login', { method: 'POST', body: { user: 'alice-42' } })
    const raw = decodeURIComponent(client.jar.get(COOKIE_NAME)!)
    const payload = JSON.parse(Buffer.from(raw.slice(2).split('.')[0], 'base64url').toString())
    assert.deepEqual(Object.keys(payload).sort(), ['expiryDate', 'message', 'purpose'])
    assert.equal(payload.message, sessionIdOf(client))
    assert.notInclude(raw, 'alice')
  })

  for (const { name, availability } of ALL_STORES) {
    test(`S3: a signed id the ${name} store does not know gets a new id`, async ({
      assert,
      cleanup,
    }) => {
      assertAvailable(availability)
      const calls: StoreCall[] = []
      const app = await bootSecurityApp({ store: name, calls })
      cleanup(() => app.close())
      const forged = generateSessionId()
      const client = app.client()
      client.jar.set(COOKIE_NAME, encodeURIComponent(signId(forged)))
      const response = await client.post('/put', { planted: true })
      assert.equal(response.status, 200)
      const issued = sessionIdOf(client)
      assert.isString(issued)
      assert.notEqual(issued, forged)
      const writes = calls.filter((call) => call.method === 'write' || call.method === 'merge')
      assert.notInclude(
        writes.map((call) => call.sessionId),
        forged
      )
      assert.deepEqual((await client.get('/read')).json().values, { planted: true })
    }).skip(skipUnlessAvailable(availability), availability.reason)
  }

  test('S3: an unsigned or badly signed id counts as no cookie', async ({ assert, cleanup }) => {
    const calls: StoreCall[] = []
    const app = await bootSecurityApp({ store: 'file', calls })
    cleanup(() => app.close())
    const owner = app.client()
    await owner.post('/put', { secret: 'owner' })
    const id = sessionIdOf(owner)!
    const signed = signId(id)
    const forgeries = [
      id,
      `s:${signed.slice(2, signed.lastIndexOf('.'))}`,
      `${signed.slice(0, -1)}${signed.endsWith('A') ? 'B' : 'A'}`,
      signId(id, 'another-key-of-sixteen-characters'),
    ]
    calls.length = 0
    for (const forgery of forgeries) {
      const response = await rawGet(app.url, '/read', {
        cookie: `${COOKIE_NAME}=${encodeURIComponent(forgery)}`,
      })
      assert.equal(response.status, 200)
      assert.deepEqual(JSON.parse(response.body), { values: {}, fresh: true })
    }
    assert.deepEqual(calls, [])
  })

  test('S4: the id is read only from the configured cookie', async ({ assert, cleanup }) => {
    const app = await bootSecurityApp({ store: 'memory' })
    cleanup(() => app.close())
    const owner = app.client()
    await owner.post('/put', { secret: 'owner' })
    const signed = encodeURIComponent(signId(sessionIdOf(owner)))
    const attempts: Record<string, string>[] = [
      { 'x-session-id': signed },
      { authorization: `Bearer ${signed}` },
      { adonis_session: signed },
      { cookie: `ADONIS_SESSION=${signed}` },
      { cookie: `x${COOKIE_NAME}=${signed}` },
    ]
    for (const headers of attempts) {
      const response = await rawGet(app.url, `/read?${COOKIE_NAME}=${signed}`, headers)
      assert.deepEqual(JSON.parse(response.body), { values: {}, fresh: true })
    }
    const viaBody = app.client()
    const posted = await viaBody.post('/put', { [COOKIE_NAME]: signed, other: 1 })
    assert.notProperty(posted.json().values, 'secret')
  })

  test('S5: garbage, oversized, non-ASCII and SQL-looking id cookies never reach a store', async ({
    assert,
    cleanup,
  }) => {
    const calls: StoreCall[] = []
    const app = await bootSecurityApp({ store: 'file', calls })
    cleanup(() => app.close())
    const latin1 = (text: string) => Buffer.from(text, 'utf8').toString('latin1')
    const values = [
      'x'.repeat(10 * 1024),
      `s:${'A'.repeat(10 * 1024)}.${'B'.repeat(43)}`,
      latin1('sessión-日本語-🍪'),
      "' OR 1=1 --",
      '"; DROP TABLE sessions; --',
      '%00%0d%0a',
      '%E0%A4%A',
      '../../../../etc/passwd',
      encodeURIComponent(signId("abcdefghijklmnop' OR '1'='1")),
      encodeURIComponent(signId('../../../../etc/passwd_x')),
      encodeURIComponent(signId({ $gt: '' })),
      encodeURIComponent(signId('x'.repeat(10 * 1024))),
    ]
    for (const value of values) {
      const response = await rawGet(app.url, '/read', { cookie: `${COOKIE_NAME}=${value}` })
      assert.equal(response.status, 200, value.slice(0, 40))
      assert.deepEqual(JSON.parse(response.body), { values: {}, fresh: true })
    }
    assert.deepEqual(calls, [])
  })
})

/**
 * Routes that pass an id from the request to the manager's API, as an
 * "end this device" page does.
 */
function deviceRoutes(router: Router) {
  const manager = (ctx: HttpContext): Promise<SessionManager> =>
    ctx.containerResolver.make('session.manager')
  router.post('/devices/tag', async (ctx) => {
    await (await manager(ctx)).tag(ctx.request.input('id'), '7')
    return { ok: true }
  })
  router.post('/devices/destroy', async (ctx) => {
    await (await manager(ctx)).destroy(ctx.request.input('id'))
    return { ok: true }
  })
  router.post('/devices/others', async (ctx) => {
    const except = ctx.request.input('id')
    return { ended: await (await manager(ctx)).destroyTagged('7', { except }) }
  })
}

test.group('security | ids of the programmatic API', () => {
  test('S5: an invalid id given to tag, destroy or destroyTagged is a 400 and reaches no store', async ({
    assert,
    cleanup,
  }) => {
    const calls: StoreCall[] = []
    const app = await bootSecurityApp({
      store: 'file',
      calls,
      routes: deviceRoutes,
      withExceptionHandler: true,
    })
    cleanup(() => app.close())
    const client = app.client()
    await client.post('/login', { user: '7' })
    calls.length = 0
    for (const [path, method] of [
      ['/devices/tag', 'tag'],
      ['/devices/destroy', 'destroy'],
      ['/devices/others', 'destroyTagged'],
    ]) {
      for (const id of ['../../etc/passwd', 'x'.repeat(10 * 1024), "' OR 1=1 --", 'short']) {
        const response = await client.request(path, {
          method: 'POST',
          body: { id },
          headers: { accept: 'application/json' },
        })
        assert.equal(response.status, 400, `${path} ${id.slice(0, 20)}`)
        assert.include(response.json().message, `Invalid session id given to "${method}"`)
      }
    }
    assert.deepEqual(
      calls.filter((call) => call.method !== 'read' && call.method !== 'touch'),
      []
    )
    assert.isDefined(sessionIdOf(client))
    assert.deepEqual((await client.get('/read')).json().values, { user: '7' })
  })

  test('S5: the manager, SessionCollection and the test client refuse invalid ids with a clear error', async ({
    assert,
    cleanup,
  }) => {
    const calls: StoreCall[] = []
    const app = await bootSecurityApp({ store: 'file', calls })
    cleanup(() => app.close())
    const collection = new SessionCollection(app.manager)
    const message =
      'Invalid session id given to "tag": a session id is 16 to 64 characters among A-Z, a-z, 0-9, "_" and "-". Pass the id of a session (session.sessionId, or an id from tagged()), not a cookie value or a fingerprint'
    await assert.rejects(() => app.manager.tag('../x', 7), message)
    await assert.rejects(() => collection.tag('s:abc.def', 7), message)
    await assert.rejects(() => app.manager.destroy('a b'), message.replace('"tag"', '"destroy"'))
    await assert.rejects(() => collection.destroy('a b'), message.replace('"tag"', '"destroy"'))
    await assert.rejects(
      () => app.manager.destroyTagged(7, { except: ['abc'] }),
      message.replace('"tag"', '"destroyTagged"')
    )
    await assert.rejects(
      () => app.manager.tag(42 as any, 7),
      /E_SESSION_INVALID_ID|Invalid session id/
    )
    assert.isNull(await collection.get('../../etc/passwd'))
    const client = SessionClient.fromManager(app.manager)
    client.sessionId = '../../etc/passwd'
    await assert.rejects(() => client.commit(), message.replace('"tag"', '"commit"'))
    await assert.rejects(() => client.destroy('a b'), message.replace('"tag"', '"destroy"'))
    assert.deepEqual(calls, [])
  })
})

/**
 * Set bits of a byte.
 */
function popcount(byte: number): number {
  let count = 0
  for (let value = byte; value; value >>= 1) count += value & 1
  return count
}

/**
 * The mean length of the prefix shared by consecutive new ids: about 1/63 for
 * random ids, several characters for ids that start with a clock.
 */
function commonPrefixAverage(pairs: number): number {
  let total = 0
  let previous = generateSessionId()
  for (let index = 0; index < pairs; index++) {
    const id = generateSessionId()
    let shared = 0
    while (shared < id.length && id[shared] === previous[shared]) shared++
    total += shared
    previous = id
  }
  return total / pairs
}
