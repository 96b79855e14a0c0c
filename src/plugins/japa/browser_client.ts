import type { PluginFn } from '@japa/runner/types'
import type { BrowserContext } from 'playwright'
import type { ApplicationService } from '@adonisjs/core/types'
import type { CookieOptions as AdonisCookieOptions } from '@adonisjs/core/types/http'
import { decoratorsCollection } from '@japa/browser-client'
import { E_INVALID_SESSION_TEST_SETUP } from '../../errors.js'
import { SessionClient, sessionManagerForTests } from '../../client.js'
import type { SessionManager } from '../../session_manager.js'
import type { SessionData } from '../../types.js'

declare module 'playwright' {
  interface BrowserContext {
    /** Reads and seeds the session of this browser context. */
    sessionClient: SessionClient
    /**
     * Make sure the context has a session the app knows: reuse the one its id
     * cookie names, or create one and set the signed id cookie.
     */
    initiateSession(options?: Partial<AdonisCookieOptions>): Promise<void>
    /** The session values of this context (empty when it has no session). */
    getSession(): Promise<SessionData>
    /** The flash messages waiting for this context's next request. */
    getFlashMessages(): Promise<SessionData>
    /** Add values to this context's session (creating it when needed). */
    setSession(values: SessionData): Promise<void>
    /** Flash messages for this context's next request. */
    setFlashMessages(values: SessionData): Promise<void>
  }
}

/**
 * Options of the browser client plugin.
 */
export interface SessionBrowserClientOptions {
  /**
   * The store the app's sessions use while the tests run: "memory" by default,
   * so the sessions a test seeds are the ones the app reads. Name another
   * server-side store of `config/session.ts` (e.g. "redis") to test against it.
   */
  store?: string
  /**
   * Where the app runs, to scope the session cookie. Defaults to
   * `http://${HOST}:${PORT}` from the environment, as @japa/browser-client does.
   */
  baseURL?: string
}

/**
 * The app under test, set each time the plugin runs; the context decorator,
 * registered once per process, reads it.
 */
let active: { manager: SessionManager; baseURL?: string } | undefined
let registered = false

/**
 * Playwright's spelling of a SameSite option.
 */
function sameSiteOf(value: AdonisCookieOptions['sameSite'] | undefined) {
  const normalized = value === true ? 'strict' : String(value).toLowerCase()
  if (normalized === 'strict') return 'Strict'
  if (normalized === 'none') return 'None'
  return 'Lax'
}

/**
 * The origin the session cookie is set for, or a clear error.
 */
function baseURLOf(configured?: string): URL {
  const host = process.env.HOST
  const port = process.env.PORT
  const baseURL = configured ?? (host && port ? `http://${host}:${port}` : undefined)
  if (!baseURL) {
    throw new E_INVALID_SESSION_TEST_SETUP([
      'the browser plugin cannot tell where the app runs. Set the HOST and PORT env variables or pass { baseURL } to sessionBrowserClient(app, { baseURL })',
    ])
  }
  return new URL(baseURL)
}

/**
 * Add the session methods to a browser context.
 */
function decorate(context: BrowserContext, manager: SessionManager, configuredBaseURL?: string) {
  const client = SessionClient.fromManager(manager)
  context.sessionClient = client

  /** The session id the context's id cookie carries, or null. */
  async function cookieSessionId(): Promise<string | null> {
    const cookies = await context.cookies()
    const cookie = cookies.find(({ name }) => name === client.cookieName)
    return client.readSessionId(cookie?.value)
  }

  context.initiateSession = async function (options: Partial<AdonisCookieOptions> = {}) {
    const sessionId = await cookieSessionId()
    if (sessionId) {
      client.sessionId = sessionId
      if (!(await client.exists())) {
        await client.commit()
      }
      return
    }
    const url = baseURLOf(configuredBaseURL)
    await client.commit()
    const cookie = { ...manager.config.cookie, ...options }
    const maxAge = manager.config.clearWithBrowser ? undefined : manager.config.cookie.maxAge
    await context.addCookies([
      {
        name: client.cookieName,
        value: client.signedSessionId(),
        domain: cookie.domain || url.hostname,
        path: cookie.path ?? '/',
        httpOnly: cookie.httpOnly !== false,
        secure: !!cookie.secure,
        sameSite: sameSiteOf(cookie.sameSite),
        expires: typeof maxAge === 'number' ? Math.floor(Date.now() / 1000) + maxAge : -1,
      },
    ])
  }

  /** What the session of the context holds (empty without one). */
  async function contents() {
    const sessionId = await cookieSessionId()
    return sessionId ? client.load(sessionId) : { values: {}, flashMessages: {} }
  }

  context.getSession = async function () {
    const { values } = await contents()
    return values
  }

  context.getFlashMessages = async function () {
    const { flashMessages } = await contents()
    return flashMessages
  }

  context.setSession = async function (values: SessionData) {
    await context.initiateSession()
    client.merge(values)
    await client.commit()
  }

  context.setFlashMessages = async function (values: SessionData) {
    await context.initiateSession()
    client.flash(values)
    await client.commit()
  }

  context.on('close', () => {
    client.destroy().catch(() => {})
  })
}

/**
 * The session plugin of `@japa/browser-client`: switches the app to the memory
 * store and gives each browser context `setSession`, `getSession`,
 * `setFlashMessages` and `getFlashMessages`.
 *
 * @example
 * // tests/bootstrap.ts
 * export const plugins = [assert(), browserClient(), sessionBrowserClient(app), pluginAdonisJS(app)]
 */
export function sessionBrowserClient(
  app: ApplicationService,
  options: SessionBrowserClientOptions = {}
): PluginFn {
  return async function sessionBrowserClientPlugin() {
    active = { manager: await sessionManagerForTests(app, options.store), baseURL: options.baseURL }
    if (!registered) {
      registered = true
      decoratorsCollection.register({
        context(context) {
          decorate(context, active!.manager, active!.baseURL)
        },
      })
    }
  }
}
