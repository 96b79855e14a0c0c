import { KeyRing } from '../src/key_ring.js'
import { SessionCookies } from '../src/session_cookies.js'
import { CookieStore } from '../src/stores/cookie.js'
import type { SessionData, SessionStoreContract } from '../src/types.js'
import { CookieJar, createHttpContext, setCookiesOf, TEST_APP_KEY } from './http_context.js'

/**
 * Runs the real CookieStore the way a browser and server do: every call is one
 * request with its own HttpContext, the jar's cookies in its Cookie header, and
 * the response's Set-Cookie lines applied to the jar afterwards. `touch` reads
 * first, as the session does in a request that changed nothing.
 */
export class CookieStoreHarness implements SessionStoreContract {
  readonly jar = new CookieJar()
  readonly cookies: SessionCookies
  #ageInSeconds: number

  constructor(ageInSeconds: number, appKeys: string[] = [TEST_APP_KEY]) {
    this.#ageInSeconds = ageInSeconds
    this.cookies = new SessionCookies(
      'adonis_session',
      { path: '/', httpOnly: true, sameSite: 'lax' },
      ageInSeconds,
      new KeyRing(appKeys)
    )
  }

  /** Run one request against a fresh CookieStore and keep the cookies it set. */
  async #request<T>(run: (store: CookieStore) => T | Promise<T>): Promise<T> {
    const ctx = createHttpContext({ cookie: this.jar.header() })
    const result = await run(new CookieStore(ctx, this.cookies, this.#ageInSeconds))
    this.jar.absorb(setCookiesOf(ctx))
    return result
  }

  /** Read a session in a new request. */
  read(sessionId: string): Promise<SessionData | null> {
    return this.#request((store) => store.read(sessionId))
  }

  /** Write a session in a new request. */
  write(sessionId: string, data: SessionData): Promise<void> {
    return this.#request((store) => store.write(sessionId, data))
  }

  /** Destroy a session in a new request. */
  destroy(sessionId: string): Promise<void> {
    return this.#request((store) => store.destroy(sessionId))
  }

  /** A request that reads the session and only touches it. */
  touch(sessionId: string): Promise<void> {
    return this.#request((store) => {
      store.read(sessionId)
      store.touch(sessionId)
    })
  }
}
