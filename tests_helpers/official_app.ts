import { serveApp, type TestApp, type TestAppOptions } from './index.js'

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
  return serveApp(
    { provider: () => import(OFFICIAL_PROVIDER), middleware: () => import(OFFICIAL_MIDDLEWARE) },
    options
  )
}

/**
 * Load the official middleware module, as the first request of an official
 * app does: @adonisjs/session 8.x (AdonisJS 7) sets its own Redirect helpers
 * (`getPreviousUrl`, `withIntendedUrl`, …) when it is imported.
 */
export async function importOfficialMiddleware(): Promise<void> {
  await import(OFFICIAL_MIDDLEWARE)
}
