import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { IgnitorFactory } from '@adonisjs/core/factories'
import { appKeyProvider } from './app_key_provider.js'
import { BASE_URL, type TestApp, type TestAppOptions } from './index.js'

/**
 * The official provider and middleware, imported by a specifier TypeScript does
 * not follow: their `ctx.session` augmentation would clash with ours.
 */
const OFFICIAL_PROVIDER: string = 'adonisjs-session-official/session_provider'
const OFFICIAL_MIDDLEWARE: string = 'adonisjs-session-official/session_middleware'

/**
 * A real AdonisJS app running the REAL @adonisjs/session 7.x (installed as
 * `adonisjs-session-official`) with its provider and middleware, on loopback:
 * the other side of the drop-in compatibility tests.
 */
export type OfficialTestApp = Omit<TestApp, 'manager'>

/**
 * Boot an app with @adonisjs/session 7.x; `options.session` is the official
 * package's `defineConfig()` result.
 */
export async function createOfficialTestApp(
  options: Omit<TestAppOptions, 'providers'>
): Promise<OfficialTestApp> {
  const ignitor = new IgnitorFactory()
    .merge({
      rcFileContents: {
        providers: [
          ...(options.appKey ? [appKeyProvider(options.appKey)] : []),
          () => import(OFFICIAL_PROVIDER),
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
  router.use([() => import(OFFICIAL_MIDDLEWARE)])
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
