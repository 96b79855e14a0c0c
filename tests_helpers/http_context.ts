import { IncomingMessage, ServerResponse } from 'node:http'
import { Socket } from 'node:net'
import type { Encryption } from '@adonisjs/core/encryption'
import type { HttpContext } from '@adonisjs/core/http'
import { HttpContextFactory, RequestFactory, ResponseFactory } from '@adonisjs/core/factories/http'
import { createEncryption } from './framework.js'

export { TEST_APP_KEY, createEncryption } from './framework.js'

/**
 * A real HttpContext over real Node req/res objects, with an optional Cookie
 * header, as one incoming request.
 */
export function createHttpContext(
  options: { cookie?: string; encryption?: Encryption; url?: string } = {}
): HttpContext {
  const req = new IncomingMessage(new Socket())
  req.url = options.url ?? '/'
  req.method = 'GET'
  if (options.cookie) {
    req.headers.cookie = options.cookie
  }
  const res = new ServerResponse(req)
  const encryption = options.encryption ?? createEncryption()
  const request = new RequestFactory().merge({ req, res, encryption }).create()
  const response = new ResponseFactory().merge({ req, res, encryption }).create()
  return new HttpContextFactory().merge({ request, response }).create()
}

/**
 * The Set-Cookie lines a context's response holds so far.
 */
export function setCookiesOf(ctx: HttpContext): string[] {
  const header = ctx.response.getHeader('set-cookie')
  if (header === undefined) {
    return []
  }
  return (Array.isArray(header) ? header : [header]).map(String)
}

/**
 * A cookie jar that applies Set-Cookie lines (deletions included) and builds
 * the next request's Cookie header, like a browser.
 */
export class CookieJar {
  cookies = new Map<string, string>()

  /** Apply Set-Cookie lines. */
  absorb(lines: string[]) {
    for (const line of lines) {
      const [pair, ...attributes] = line.split(';')
      const name = pair.slice(0, pair.indexOf('='))
      const value = pair.slice(pair.indexOf('=') + 1)
      const deleted = attributes.some((attribute) => /^\s*max-age=0$/i.test(attribute))
      if (deleted || value === '') {
        this.cookies.delete(name)
      } else {
        this.cookies.set(name, value)
      }
    }
  }

  /** The Cookie header for the next request. */
  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
  }
}
