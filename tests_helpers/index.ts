import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { IgnitorFactory } from '@adonisjs/core/factories'
import type { ApplicationService } from '@adonisjs/core/types'
import type { Router } from '@adonisjs/core/http'
import type { SessionManager } from '../src/session_manager.js'
import { appKeyProvider } from './app_key_provider.js'

export const BASE_URL = new URL('../tmp/', import.meta.url)

/**
 * Options of a test app: the session config (a `defineConfig` result), routes,
 * extra config and providers, and a hook before the server starts.
 */
export interface TestAppOptions {
  session: unknown
  routes?: (router: Router, app: ApplicationService) => void | Promise<void>
  config?: Record<string, any>
  providers?: (() => Promise<any>)[]
  environment?: 'web' | 'test'
  /** The app key, or on AdonisJS 7 the keys of the default encrypter, newest first. */
  appKey?: string | string[]
}

/**
 * A real AdonisJS app booted with the session provider and middleware, served
 * by a real HTTP server on a free loopback port.
 */
export interface TestApp {
  app: ApplicationService
  url: string
  manager: SessionManager
  server: Server
  close(): Promise<void>
}

/**
 * The session package an app boots with: its provider and router middleware.
 */
export interface SessionPackage {
  provider: () => Promise<any>
  middleware: () => Promise<any>
}

/**
 * Boot a real AdonisJS app with a session package and serve it on loopback.
 */
export async function serveApp(
  sessionPackage: SessionPackage,
  options: TestAppOptions
): Promise<Omit<TestApp, 'manager'>> {
  const ignitor = new IgnitorFactory()
    .merge({
      rcFileContents: {
        providers: [
          ...(options.appKey ? [appKeyProvider(options.appKey)] : []),
          sessionPackage.provider,
          ...(options.providers ?? []),
        ],
      },
    })
    .withCoreConfig()
    .withCoreProviders()
    .merge({ config: { session: options.session, ...options.config } })
    .create(BASE_URL, { importer: (path) => import(path) })

  const app = ignitor.createApp(options.environment ?? 'web')
  await app.init()
  await app.boot()

  const server = await app.container.make('server')
  const router = await app.container.make('router')
  server.use([() => import('@adonisjs/core/bodyparser_middleware')])
  router.use([sessionPackage.middleware])
  await options.routes?.(router, app)
  await app.start(async () => {})
  await server.boot()

  const httpServer = createServer((req, res) => server.handle(req, res))
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve))
  const { port } = httpServer.address() as AddressInfo

  return {
    app,
    server: httpServer,
    url: `http://127.0.0.1:${port}`,
    async close() {
      await new Promise<void>((resolve) => httpServer.close(() => resolve()))
      await app.terminate()
    },
  }
}

/**
 * Boot a real AdonisJS app with adonis-satchel and serve it on loopback.
 */
export async function createTestApp(options: TestAppOptions): Promise<TestApp> {
  const served = await serveApp(
    {
      provider: () => import('../providers/session_provider.js'),
      middleware: () => import('../src/session_middleware.js'),
    },
    options
  )
  return { ...served, manager: await served.app.container.make('session.manager') }
}

/**
 * A response as the tests read it.
 */
export interface TestResponse {
  status: number
  headers: Headers
  setCookies: string[]
  text: string
  json(): any
}

/**
 * A tiny browser: sends requests with a cookie jar that follows Set-Cookie
 * (including Max-Age=0 deletions), like a real browser would.
 */
export class CookieClient {
  jar = new Map<string, string>()

  constructor(public baseUrl: string) {}

  /** The Cookie header for the jar. */
  cookieHeader(): string {
    return [...this.jar].map(([name, value]) => `${name}=${value}`).join('; ')
  }

  /** Apply the Set-Cookie headers of a response to the jar. */
  absorb(setCookies: string[]) {
    for (const line of setCookies) {
      const [pair, ...attributes] = line.split(';')
      const name = pair.slice(0, pair.indexOf('='))
      const value = pair.slice(pair.indexOf('=') + 1)
      const deleted = attributes.some((attribute) => /^\s*max-age=0$/i.test(attribute))
      if (deleted || value === '') {
        this.jar.delete(name)
      } else {
        this.jar.set(name, value)
      }
    }
  }

  /** Send a request, carrying and updating the jar. */
  async request(
    path: string,
    init: { method?: string; headers?: Record<string, string>; body?: any; form?: any } = {}
  ): Promise<TestResponse> {
    const headers: Record<string, string> = { ...init.headers }
    const cookie = this.cookieHeader()
    if (cookie && !('cookie' in headers)) headers.cookie = cookie
    let body = init.body
    if (init.form) {
      body = new URLSearchParams(init.form).toString()
      headers['content-type'] = 'application/x-www-form-urlencoded'
    } else if (body && typeof body === 'object') {
      body = JSON.stringify(body)
      headers['content-type'] = 'application/json'
    }
    const response = await fetch(`${this.baseUrl}${path}`, {
      method: init.method ?? (body ? 'POST' : 'GET'),
      headers,
      body,
      redirect: 'manual',
    })
    const setCookies = response.headers.getSetCookie()
    this.absorb(setCookies)
    const text = await response.text()
    return {
      status: response.status,
      headers: response.headers,
      setCookies,
      text,
      json: () => JSON.parse(text),
    }
  }

  /** GET shortcut. */
  get(path: string, headers?: Record<string, string>) {
    return this.request(path, { headers })
  }

  /** POST a JSON body. */
  post(path: string, body?: any, headers?: Record<string, string>) {
    return this.request(path, { method: 'POST', body: body ?? {}, headers })
  }
}
