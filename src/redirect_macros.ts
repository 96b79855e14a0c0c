import { HttpContext, Redirect, Response } from '@adonisjs/core/http'
import type { MakeUrlOptions } from '@adonisjs/core/types/http'
import { E_SESSION_NOT_READY } from './errors.js'
import { isSafeRedirectPath } from './session.js'

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

let registered = false

/**
 * Add the intended-URL methods to the AdonisJS `Redirect` class (called from the
 * provider's boot). Only same-site paths are remembered and followed, so an
 * intended URL can never become an open redirect.
 */
export function registerRedirectMacros() {
  if (registered) {
    return
  }
  registered = true

  const makeRedirect = Response.prototype.redirect
  Response.macro('redirect', function (this: Response, ...args: any[]) {
    const result = (makeRedirect as (...params: any[]) => Redirect | void).apply(this, args)
    if (result instanceof Redirect && this.ctx) {
      contexts.set(result, this.ctx)
    }
    return result
  } as Response['redirect'])

  const methods: Pick<Redirect, 'withIntendedUrl' | 'toIntended' | 'toIntendedRoute'> = {
    withIntendedUrl(this: Redirect) {
      const { request, session } = contextOf(this)
      const url = request.url(true)
      if (request.method() === 'GET' && isSafeRedirectPath(url)) {
        session.setIntendedUrl(url)
      }
      return this
    },
    toIntended(this: Redirect, fallback: string = '/') {
      return this.toPath(contextOf(this).session.pullIntendedUrl() ?? fallback)
    },
    toIntendedRoute(this: Redirect, routeIdentifier, params, options) {
      const url = contextOf(this).session.pullIntendedUrl()
      return url ? this.toPath(url) : this.toRoute(routeIdentifier, params, options)
    },
  }
  for (const [name, method] of Object.entries(methods)) {
    Object.defineProperty(Redirect.prototype, name, {
      value: method,
      writable: true,
      configurable: true,
    })
  }
}
