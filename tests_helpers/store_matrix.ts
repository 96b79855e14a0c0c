import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { defineConfig as defineHttpConfig } from '@adonisjs/core/http'
import { defineConfig, stores } from '../src/define_config.js'
import type { SessionConfigInput } from '../src/define_config.js'
import { METADATA_KEY } from '../src/payload.js'
import type { SessionManager } from '../src/session_manager.js'
import { CookieStore } from '../src/stores/cookie.js'
import { FileStore } from '../src/stores/file.js'
import { MemoryStore } from '../src/stores/memory.js'
import type { SessionStoreContract, SessionStoreFactory } from '../src/types.js'
import type { StoreCallCounter } from './counting_store.js'
import { TEST_APP_KEY } from './http_context.js'
import { CookieClient, createTestApp, type TestAppOptions } from './index.js'
import { sessionRoutes } from './session_routes.js'

/**
 * The stores of the core package that every HTTP behaviour test loops over.
 */
export type CoreStoreName = 'cookie' | 'memory' | 'file'

/**
 * The names, in the order the loops run them.
 */
export const CORE_STORES: CoreStoreName[] = ['cookie', 'memory', 'file']

/**
 * A unique temporary folder under `tmp/` (not created).
 */
export function temporaryFolder(prefix: string): string {
  return fileURLToPath(
    new URL(`../tmp/${prefix}_${randomBytes(6).toString('hex')}`, import.meta.url)
  )
}

/**
 * The session config of one store for a test app, with a fresh file folder for
 * the file store, and a cleanup that removes it.
 */
export function sessionConfigFor(
  store: CoreStoreName,
  overrides: Partial<Omit<SessionConfigInput<any>, 'store' | 'stores'>> = {}
) {
  const location = temporaryFolder('sessions')
  const session = defineConfig({
    ...overrides,
    store,
    stores: { cookie: stores.cookie(), file: stores.file({ location }) },
  })
  return {
    session,
    location,
    cleanup: () => rm(location, { recursive: true, force: true }),
  }
}

/**
 * `config.app` for a test app with custom HTTP cookie defaults (the rest as
 * `IgnitorFactory.withCoreConfig()`), e.g. `{ maxAge: '2h' }`.
 */
export function appConfigWithCookie(cookie: Record<string, unknown>) {
  return { appKey: TEST_APP_KEY, http: defineHttpConfig({ cookie }) }
}

/**
 * A test app on one of the core stores with the `sessionRoutes` (plus any
 * routes given), and a browser for it; with `counter`, the store is wrapped
 * by it. Register `close` with the test's cleanup.
 */
export async function createStoreApp(
  store: CoreStoreName,
  options: {
    session?: Partial<Omit<SessionConfigInput<any>, 'store' | 'stores'>>
    routes?: TestAppOptions['routes']
    config?: TestAppOptions['config']
    /** Put the store behind this call counter (a custom factory named "counted"). */
    counter?: StoreCallCounter
  } = {}
) {
  const { session, location, cleanup } = options.counter
    ? countedSessionConfigFor(store, options.counter, options.session)
    : sessionConfigFor(store, options.session)
  const testApp = await createTestApp({
    session,
    config: options.config,
    async routes(router, app) {
      sessionRoutes(router)
      await options.routes?.(router, app)
    },
  })
  return {
    ...testApp,
    location,
    client: new CookieClient(testApp.url),
    async close() {
      await testApp.close()
      await cleanup()
    },
  }
}

/**
 * The data stored for a session, metadata left out: decrypted from the
 * browser's data cookie on the cookie store, read from the store otherwise.
 */
export async function readStoredData(
  store: CoreStoreName,
  manager: SessionManager,
  client: CookieClient,
  sessionId: string
): Promise<Record<string, any> | null> {
  if (store !== 'cookie') {
    return manager.read(sessionId)
  }
  const raw = client.jar.get(sessionId)
  if (!raw) {
    return null
  }
  const data = manager.cookies.keyRing.decrypt<Record<string, any>>(
    decodeURIComponent(raw),
    sessionId
  )?.value
  if (!data) {
    return null
  }
  const values = { ...data }
  delete values[METADATA_KEY]
  return values
}

/**
 * The session config of one core store behind a call counter: a custom store
 * factory (`store: 'counted'`) that wraps the real store, so tests assert on
 * the calls a request makes.
 */
export function countedSessionConfigFor(
  store: CoreStoreName,
  counter: StoreCallCounter,
  overrides: Partial<Omit<SessionConfigInput<any>, 'store' | 'stores'>> = {}
) {
  const location = temporaryFolder('sessions')
  let shared: SessionStoreContract | undefined
  const counted: SessionStoreFactory = (ctx, config) => {
    if (store === 'cookie') {
      return counter.wrap(new CookieStore(ctx, config.sessionCookies!, config.ageInSeconds))
    }
    shared ??= counter.wrap(
      store === 'memory'
        ? new MemoryStore(config.ageInSeconds)
        : new FileStore(location, config.ageInSeconds)
    )
    return shared
  }
  return {
    session: defineConfig({ ...overrides, store: 'counted', stores: { counted } }),
    location,
    cleanup: () => rm(location, { recursive: true, force: true }),
  }
}
