import { HttpContext, Redirect } from '@adonisjs/core/http'
import type { MakeUrlOptions } from '@adonisjs/core/types/http'
import { E_SESSION_NOT_READY } from './errors.js'
import { ResponseClass } from './framework.js'
import { isSafeRedirectPath } from './session.js'

/**
 * The session key a previous URL may be kept under, read by AdonisJS 7's
 * `redirect().back()` before the Referer header (as @adonisjs/session 8.x does).
 */
const PREVIOUS_URL_KEY = 'redirect.previousUrl'

declare module '@adonisjs/core/http' {
  interface Redirect {
    /**
     * Remember the current URL (GET requests only) as the intended URL, then
     * keep building the redirect: `response.redirect().withIntendedUrl().toPath('/login')`.
     */
    withIntendedUrl(): this
    /**
     * Redirect to the remembered intended URL and forget it; `fallback` when
     * there is none: `response.redirect().toIntended('/dashboard')`.
     */
    toIntended(fallback?: string): void
    /**
     * Redirect to the remembered intended URL and forget it; the given route
     * when there is none.
     */
    toIntendedRoute(
      routeIdentifier: string,
      params?: any[] | Record<string, any>,
      options?: MakeUrlOptions
    ): void
  }
}

/**
 * The HTTP context of each Redirect made by `response.redirect()`; the core
 * Redirect keeps its request private.
 */
const contexts = new WeakMap<Redirect, HttpContext>()

/**
 * The HTTP context a redirect belongs to, with its session ready (or, on a
 * skipped route, the session that lives only for the request).
 */
function contextOf(redirect: Redirect): HttpContext {
  const ctx = contexts.get(redirect) ?? HttpContext.get()
  if (!ctx?.session?.initiated && !ctx?.session?.skipped) {
    throw new E_SESSION_NOT_READY()
  }
  return ctx
}

/** The redirect helpers adonis-satchel adds to the framework's `Redirect`. */
const redirectMethods: Pick<Redirect, 'withIntendedUrl' | 'toIntended' | 'toIntendedRoute'> = {
  withIntendedUrl(this: Redirect) {
    const { request, session, route } = contextOf(this)
    if (request.method() === 'GET' && !request.ajax() && route) {
      session.setIntendedUrl(request.url(true))
    }
    return this
  },
  toIntended(this: Redirect, fallback: string = '/') {
    return this.toPath(contextOf(this).session.pullIntendedUrl() ?? fallback)
  },
  toIntendedRoute(this: Redirect, routeIdentifier, params, options) {
    const url = contextOf(this).session.pullIntendedUrl()
    if (url) {
      return this.toPath(url)
    }
    // AdonisJS 7 types toRoute from the app's route registry; the runtime call is the same.
    return (this.toRoute as (...args: unknown[]) => void)(routeIdentifier, params, options)
  },
}

/** AdonisJS 7's `Redirect.getPreviousUrl`. */
type GetPreviousUrl = (this: Redirect, fallback: string) => string

/** The Redirect's `getPreviousUrl` before adonis-satchel's (AdonisJS 7: the Referer header). */
let referrerPreviousUrl: GetPreviousUrl | undefined

/**
 * AdonisJS 7's `getPreviousUrl`: a same-site path kept under
 * `redirect.previousUrl` in the session wins over the Referer header, once.
 */
function previousUrlFromSession(this: Redirect, fallback: string): string {
  const session = (contexts.get(this) ?? HttpContext.get())?.session
  if (session?.initiated && !session.readonly && session.has(PREVIOUS_URL_KEY)) {
    const url = session.pull(PREVIOUS_URL_KEY)
    if (isSafeRedirectPath(url)) {
      return url
    }
  }
  return referrerPreviousUrl!.call(this, fallback)
}

let responseWrapped = false

/**
 * Add the intended-URL methods to the AdonisJS `Redirect` class (called from the
 * provider's boot). Only same-site paths are remembered and followed, so an
 * intended URL can never become an open redirect. Each boot puts the methods
 * back if another package replaced them since (`@adonisjs/session` 8 sets its
 * own when its middleware module is imported).
 */
export function registerRedirectMacros() {
  if (!responseWrapped) {
    responseWrapped = true
    const makeRedirect = ResponseClass.prototype.redirect
    ResponseClass.macro('redirect', function (this: { ctx?: HttpContext }, ...args: any[]) {
      const result = (makeRedirect as (...params: any[]) => Redirect | void).apply(this, args)
      if (result instanceof Redirect && this.ctx) {
        contexts.set(result, this.ctx)
      }
      return result
    })
  }

  const prototype = Redirect.prototype as unknown as Record<string, unknown>
  const getPreviousUrl = prototype.getPreviousUrl
  const methods: Record<string, unknown> = { ...redirectMethods }
  if (typeof getPreviousUrl === 'function') {
    referrerPreviousUrl ??= getPreviousUrl as GetPreviousUrl
    methods.getPreviousUrl = previousUrlFromSession
  }
  for (const [name, method] of Object.entries(methods)) {
    if (prototype[name] !== method) {
      Object.defineProperty(prototype, name, { value: method, writable: true, configurable: true })
    }
  }
}
