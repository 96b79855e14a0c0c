import { test } from '@japa/runner'
import { newSessionId } from '../factories/store_conformance.js'
import { KeyRing } from '../src/key_ring.js'
import { SessionCookies } from '../src/session_cookies.js'
import { createHttpContext, TEST_APP_KEY } from '../tests_helpers/http_context.js'

const COOKIE_NAME = 'adonis-session'

/** The Cookie header of a request carrying a signed id cookie. */
function idCookieHeader(ring: KeyRing, sessionId: string): string {
  return `${COOKIE_NAME}=${encodeURIComponent(ring.sign(sessionId, COOKIE_NAME))}`
}

test.group('SessionCookies | verified id cookies', () => {
  test('keep the remembered id cookies within cacheBytes', ({ assert }) => {
    const ring = new KeyRing([TEST_APP_KEY])
    const cookies = new SessionCookies(COOKIE_NAME, {}, 7200, ring, { cacheBytes: 20_000 })
    const ids = Array.from({ length: 300 }, () => newSessionId())
    for (const id of ids) {
      const ctx = createHttpContext({ cookie: idCookieHeader(ring, id) })
      assert.equal(cookies.readSessionId(ctx)?.id, id)
      assert.isAtMost(cookies.cachedBytes, 20_000)
    }
    assert.isAbove(cookies.cachedBytes, 10_000)
    for (const id of ids) {
      assert.equal(
        cookies.readSessionId(createHttpContext({ cookie: idCookieHeader(ring, id) }))?.id,
        id
      )
    }
  })

  test('remember nothing with a cacheBytes of 0 and still verify every cookie', ({ assert }) => {
    const ring = new KeyRing([TEST_APP_KEY])
    const cookies = new SessionCookies(COOKIE_NAME, {}, 7200, ring, { cacheBytes: 0 })
    const id = newSessionId()
    const header = idCookieHeader(ring, id)
    assert.equal(cookies.readSessionId(createHttpContext({ cookie: header }))?.id, id)
    assert.equal(cookies.readSessionId(createHttpContext({ cookie: header }))?.id, id)
    assert.equal(cookies.cachedBytes, 0)
  })
})
