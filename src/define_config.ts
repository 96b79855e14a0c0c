import string from '@adonisjs/core/helpers/string'
import { configProvider } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import type { ApplicationService, ConfigProvider } from '@adonisjs/core/types'
import type { CookieOptions } from '@adonisjs/core/types/http'
import { E_INVALID_SESSION_CONFIG } from './errors.js'
import type {
  DatabaseStoreConfig,
  DynamoDBStoreConfig,
  FileStoreConfig,
  RedisStoreConfig,
  ResolvedSessionConfig,
  SessionConfig,
  SessionStoreContract,
  SessionStoreFactory,
} from './types.js'
import { MAX_COOKIE_AGE_SECONDS } from './session_cookies.js'
import { MemoryStore } from './stores/memory.js'
import { DEFAULT_FLASH_INPUT_LIMITS } from './flashable_input.js'

/**
 * Input fields never flashed back as old input, unless `neverFlash` says otherwise.
 */
export const DEFAULT_NEVER_FLASH = ['password', 'password_confirmation', '_csrf', '_method']

/**
 * Milliseconds a store call may take by default.
 */
export const DEFAULT_STORE_TIMEOUT = 5000

/**
 * A store entry of `config/session.ts`: a factory, or a config provider of one.
 */
type StoreEntry = SessionStoreFactory | ConfigProvider<SessionStoreFactory>

/**
 * What `defineConfig` accepts.
 */
export type SessionConfigInput<KnownStores extends Record<string, StoreEntry>> = Partial<
  Omit<SessionConfig, 'cookie'>
> & {
  store: keyof KnownStores | 'memory'
  stores: KnownStores
  cookie?: Partial<CookieOptions>
  /** Routes that never touch the session: patterns ('/health', '/assets/*') or a predicate. */
  skip?: string[] | ((ctx: HttpContext) => boolean)
}

/**
 * The resolved config, with store names known to TypeScript.
 */
export type ResolvedConfig<KnownStores extends Record<string, StoreEntry>> = Omit<
  ResolvedSessionConfig,
  'store' | 'stores'
> & {
  store: keyof KnownStores | 'memory'
  stores: { [K in keyof KnownStores | 'memory']: SessionStoreFactory }
}

function invalid(message: string): never {
  throw new E_INVALID_SESSION_CONFIG([message])
}

/**
 * Parse a duration ('2h', '30 mins' or seconds) into positive whole seconds.
 */
export function parseDuration(property: string, value: unknown): number {
  let seconds: number
  try {
    seconds = string.seconds.parse(value as string | number)
  } catch {
    invalid(
      `"${property}" is "${String(value)}", which is not a duration. Use a time expression such as '2h' or '30 mins', or a number of seconds`
    )
  }
  if (!Number.isFinite(seconds) || Math.floor(seconds) <= 0) {
    invalid(`"${property}" must be a duration of at least one second, received "${String(value)}"`)
  }
  return Math.floor(seconds)
}

/**
 * Parse one size limit of `flashInputLimits` (bytes or '8kb') into bytes.
 */
function parseByteSize(property: string, value: unknown, fallback: number): number {
  if (value === undefined) {
    return fallback
  }
  const bytes =
    typeof value === 'number' || typeof value === 'string' ? string.bytes.parse(value) : null
  if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes <= 0) {
    invalid(
      `"${property}" is "${String(value)}", which is not a size. Use a positive whole number of bytes or a size such as '8kb'`
    )
  }
  return bytes
}

/**
 * Check and resolve `flashInputLimits` into bytes; the field limit may not
 * exceed the total.
 */
function resolveFlashInputLimits(limits: unknown): { field: number; total: number } {
  if (limits === undefined) {
    return { ...DEFAULT_FLASH_INPUT_LIMITS }
  }
  if (limits === null || typeof limits !== 'object' || Array.isArray(limits)) {
    invalid(
      `"flashInputLimits" must be an object such as { field: '8kb', total: '32kb' }, received "${String(limits)}"`
    )
  }
  const { field, total } = limits as { field?: unknown; total?: unknown }
  const resolved = {
    field: parseByteSize('flashInputLimits.field', field, DEFAULT_FLASH_INPUT_LIMITS.field),
    total: parseByteSize('flashInputLimits.total', total, DEFAULT_FLASH_INPUT_LIMITS.total),
  }
  if (resolved.field > resolved.total) {
    invalid(
      `"flashInputLimits.field" (${resolved.field} bytes) is more than "flashInputLimits.total" (${resolved.total} bytes). Raise the total or lower the field limit`
    )
  }
  return resolved
}

const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const COOKIE_PATH = /^[\u0021-\u003a\u003c-\u007e]+$/
const COOKIE_DOMAIN = /^\.?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/

/**
 * Check the cookie name and the options that do not depend on the app.
 */
function validateCookie(cookieName: string, cookie: Partial<CookieOptions>) {
  if (typeof cookieName !== 'string' || !COOKIE_NAME.test(cookieName)) {
    invalid(
      `"cookieName" is "${String(cookieName)}": cookie names may hold letters, digits and !#$%&'*+-.^_\`|~ only (no spaces, ";" or "=")`
    )
  }
  if (cookie.path !== undefined && !COOKIE_PATH.test(cookie.path)) {
    invalid(`"cookie.path" is "${cookie.path}": it may not hold spaces, ";" or control characters`)
  }
  if (cookie.domain !== undefined && cookie.domain !== '' && !COOKIE_DOMAIN.test(cookie.domain)) {
    invalid(`"cookie.domain" is "${cookie.domain}", which is not a domain name`)
  }
  if (cookieName.startsWith('__Host-')) {
    if (cookie.domain)
      invalid(`"cookieName" starts with "__Host-", so "cookie.domain" must be unset`)
    if ((cookie.path ?? '/') !== '/') {
      invalid(`"cookieName" starts with "__Host-", so "cookie.path" must be "/"`)
    }
  }
  if (/^__(Host|Secure)-/.test(cookieName) && cookie.secure === false) {
    invalid(`"cookieName" is "${cookieName}", so "cookie.secure" cannot be false`)
  }
}

/**
 * Check the `cacheBytes` option of a store helper: a whole number of bytes, 0 or more.
 */
function validateCacheBytes(helper: string, cacheBytes: unknown) {
  if (
    cacheBytes !== undefined &&
    (typeof cacheBytes !== 'number' || !Number.isSafeInteger(cacheBytes) || cacheBytes < 0)
  ) {
    invalid(
      `"${helper}({ cacheBytes })" is "${String(cacheBytes)}": use a whole number of bytes, e.g. 16 * 1024 * 1024, or 0 to cache nothing`
    )
  }
}

/**
 * Check the store name and entries, naming the valid choices.
 */
function validateStores(store: unknown, stores: Record<string, unknown>) {
  if (!stores || typeof stores !== 'object') {
    invalid(
      '"stores" is missing. Define at least one store, e.g. "stores: { cookie: stores.cookie() }"'
    )
  }
  for (const [name, entry] of Object.entries(stores)) {
    const isProvider =
      entry && typeof entry === 'object' && typeof (entry as any).resolver === 'function'
    if (typeof entry !== 'function' && !isProvider) {
      invalid(
        `"stores.${name}" is not a store factory. Use a helper such as "stores.file({ location })" or a function "(ctx, config) => store"`
      )
    }
  }
  const choices = [...new Set([...Object.keys(stores), 'memory'])]
  if (typeof store !== 'string' || !choices.includes(store)) {
    invalid(
      `"store" is "${String(store)}", which is not a configured store. Choose one of: ${choices.map((name) => `"${name}"`).join(', ')}`
    )
  }
}

/**
 * Check the @adonisjs/auth integration options.
 */
function validateAuth(auth: unknown) {
  if (auth === undefined) {
    return
  }
  const { tagSessions, guards } = (auth ?? {}) as Record<string, unknown>
  if (auth === null || typeof auth !== 'object' || typeof tagSessions !== 'boolean') {
    invalid(
      `"auth" must be an object such as { tagSessions: true }, received ${JSON.stringify(auth)}`
    )
  }
  if (
    guards !== undefined &&
    (!Array.isArray(guards) ||
      guards.length === 0 ||
      guards.some((guard) => typeof guard !== 'string' || !guard))
  ) {
    invalid(
      `"auth.guards" must list session guard names of "config/auth.ts" (e.g. ['web']), received ${JSON.stringify(guards)}`
    )
  }
}

/**
 * Turn `skip` patterns into a predicate over the matched route.
 */
function skipPredicate(skip: SessionConfigInput<any>['skip']) {
  if (typeof skip === 'function' || skip === undefined) {
    return skip
  }
  if (Array.isArray(skip) && skip.length === 0) {
    return undefined
  }
  if (
    !Array.isArray(skip) ||
    skip.some((item) => typeof item !== 'string' || !item.startsWith('/'))
  ) {
    invalid(
      `"skip" must be a list of route patterns starting with "/" (e.g. ['/health', '/assets/*']) or a function (ctx) => boolean`
    )
  }
  const exact = new Set(skip.filter((pattern) => !pattern.endsWith('/*')))
  const prefixes = skip.filter((pattern) => pattern.endsWith('/*')).map((p) => p.slice(0, -1))
  return (ctx: HttpContext) => {
    const pattern = ctx.route?.pattern ?? ctx.request.url()
    return exact.has(pattern) || prefixes.some((prefix) => `${pattern}/`.startsWith(prefix))
  }
}

/**
 * Define the session config. Checks the shape at import, so a mistake fails
 * the app's boot with a message that names the property and the fix.
 *
 * @example
 * export default defineConfig({ store: 'cookie', stores: { cookie: stores.cookie() } })
 */
export function defineConfig<KnownStores extends Record<string, StoreEntry>>(
  config: SessionConfigInput<KnownStores>
): ConfigProvider<ResolvedConfig<KnownStores>> {
  const { stores: storeEntries, cookie = {}, skip, ...rest } = config
  validateStores(config.store, storeEntries as Record<string, unknown>)
  const cookieName = rest.cookieName ?? 'adonis_session'
  validateCookie(cookieName, cookie)
  const age = rest.age ?? '2h'
  const ageInSeconds = parseDuration('age', age)
  const maxLifetimeInSeconds =
    rest.maxLifetime === undefined ? undefined : parseDuration('maxLifetime', rest.maxLifetime)
  const storeTimeout = rest.storeTimeout ?? DEFAULT_STORE_TIMEOUT
  if (!Number.isFinite(storeTimeout) || storeTimeout <= 0) {
    invalid(`"storeTimeout" must be a positive number of milliseconds, received "${storeTimeout}"`)
  }
  if (
    rest.cookieRevocation !== undefined &&
    typeof rest.cookieRevocation?.validAfter !== 'function'
  ) {
    invalid(
      '"cookieRevocation.validAfter" must be a function (userId, ctx) => Date | number | undefined, e.g. the user\'s "sessions valid after" time'
    )
  }

  const flashInputLimitsInBytes = resolveFlashInputLimits(rest.flashInputLimits)
  if (rest.detectSecretFields !== undefined && typeof rest.detectSecretFields !== 'boolean') {
    invalid(`"detectSecretFields" must be true or false, received "${rest.detectSecretFields}"`)
  }

  validateAuth(rest.auth)
  const skipRequest = skipPredicate(skip)

  return configProvider.create(async (app) => {
    const stores: Record<string, SessionStoreFactory> = { memory: memoryFactory() }
    for (const [name, entry] of Object.entries(storeEntries)) {
      const resolved = await configProvider.resolve<SessionStoreFactory>(app, entry)
      stores[name] = resolved ?? (entry as SessionStoreFactory)
      if (typeof stores[name] !== 'function') {
        invalid(
          `"stores.${name}" resolved to ${typeof stores[name]}, not a store factory. Its config provider must return a function "(ctx, config) => store"`
        )
      }
    }
    return {
      enabled: rest.enabled ?? true,
      cookieName,
      clearWithBrowser: rest.clearWithBrowser ?? false,
      age,
      ageInSeconds,
      maxLifetime: rest.maxLifetime,
      maxLifetimeInSeconds,
      cookie: resolveCookie(app, cookieName, cookie, ageInSeconds),
      saveUninitialized: rest.saveUninitialized ?? true,
      previousKeys: rest.previousKeys ?? [],
      storeTimeout,
      neverFlash: rest.neverFlash ?? DEFAULT_NEVER_FLASH,
      detectSecretFields: rest.detectSecretFields ?? true,
      flashInputLimits: rest.flashInputLimits,
      flashInputLimitsInBytes,
      cookieRevocation: rest.cookieRevocation,
      auth: rest.auth,
      skip: skipRequest,
      store: config.store,
      stores,
    } as ResolvedConfig<KnownStores>
  })
}

/**
 * Merge the app's cookie defaults under the session's cookie options and apply
 * the rules that depend on the environment (Secure in production).
 */
function resolveCookie(
  app: ApplicationService,
  cookieName: string,
  cookie: Partial<CookieOptions>,
  ageInSeconds: number
): Partial<CookieOptions> {
  const appDefaults = { ...app.config.get<Partial<CookieOptions>>('app.http.cookie', {}) }
  delete appDefaults.maxAge
  delete appDefaults.expires
  const resolved: Partial<CookieOptions> = {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    ...appDefaults,
    ...cookie,
  }
  resolved.secure = cookie.secure ?? appDefaults.secure ?? app.inProduction
  if (/^__(Host|Secure)-/.test(cookieName)) {
    resolved.secure = true
  }
  if (!['lax', 'strict', 'none', 'true'].includes(String(resolved.sameSite).toLowerCase())) {
    invalid(
      `"cookie.sameSite" is "${String(resolved.sameSite)}": the session cookie always sends SameSite. Use 'lax' (the default), 'strict', or 'none' with "cookie.secure: true"`
    )
  }
  if (String(resolved.sameSite).toLowerCase() === 'none' && !resolved.secure) {
    invalid('"cookie.sameSite" is "none", which browsers accept only with "cookie.secure: true"')
  }
  resolved.maxAge = Math.min(ageInSeconds, MAX_COOKIE_AGE_SECONDS)
  return resolved
}

/**
 * One shared store instance per factory, created on first use with the
 * resolved config (stores need the parsed `age`).
 */
function sharedFactory(create: (config: ResolvedSessionConfig) => SessionStoreContract) {
  let store: SessionStoreContract | undefined
  const factory: SessionStoreFactory = (_ctx, config) => (store ??= create(config))
  return Object.assign(factory, { shared: true })
}

/**
 * The process-wide memory stores, one per `age`: apps (and Japa plugins) with
 * the same config share one, and an app never inherits another config's age.
 */
const memoryStores = new Map<number, MemoryStore>()

/**
 * The memory store factory: always available, one store per process and age
 * (so the Japa plugins and the app see the same sessions).
 */
function memoryFactory(): SessionStoreFactory {
  const factory: SessionStoreFactory = (_ctx, config) => {
    let store = memoryStores.get(config.ageInSeconds)
    if (!store) {
      store = new MemoryStore(config.ageInSeconds)
      memoryStores.set(config.ageInSeconds, store)
    }
    return store
  }
  return Object.assign(factory, { shared: true, inProcess: true })
}

/**
 * The built-in stores. Each helper imports its store (and SDK) only when the
 * config is resolved, so unused stores cost nothing and their SDKs stay optional.
 */
export const stores = {
  /** Data in an encrypted cookie; nothing stored on the server. */
  cookie: (): ConfigProvider<SessionStoreFactory> =>
    configProvider.create(async () => {
      const { CookieStore } = await import('./stores/cookie.js')
      const factory: SessionStoreFactory = (ctx, config) =>
        new CookieStore(ctx, config.sessionCookies!, config.ageInSeconds)
      return Object.assign(factory, { inProcess: true })
    }),

  /** Sessions in the process memory: tests and development. */
  memory: (): ConfigProvider<SessionStoreFactory> =>
    configProvider.create(async () => memoryFactory()),

  /** One file per session in `location`. */
  file: (config: FileStoreConfig): ConfigProvider<SessionStoreFactory> => {
    if (!config || typeof config.location !== 'string' || !config.location) {
      invalid(
        '"stores.file()" needs a "location": the folder for session files, e.g. app.tmpPath("sessions")'
      )
    }
    validateCacheBytes('stores.file', config.cacheBytes)
    return configProvider.create(async () => {
      const { FileStore } = await import('./stores/file.js')
      return sharedFactory(
        (resolved) =>
          new FileStore(config.location, resolved.ageInSeconds, { cacheBytes: config.cacheBytes })
      )
    })
  },

  /** Sessions in Redis through a connection of @adonisjs/redis. */
  redis: (config: RedisStoreConfig): ConfigProvider<SessionStoreFactory> => {
    if (!config || typeof config.connection !== 'string' || !config.connection) {
      invalid('"stores.redis()" needs a "connection": a connection name from "config/redis.ts"')
    }
    validateCacheBytes('stores.redis', config.cacheBytes)
    return configProvider.create(async (app) => {
      const { RedisStore } = await import('./stores/redis.js')
      const redis = await app.container.make('redis' as any).catch(() => {
        invalid('"stores.redis()" needs @adonisjs/redis: run "node ace add @adonisjs/redis"')
      })
      const connections = app.config.get<Record<string, unknown>>('redis.connections', {})
      if (connections && Object.keys(connections).length && !(config.connection in connections)) {
        invalid(
          `"stores.redis()" uses the connection "${config.connection}", which "config/redis.ts" does not define. Defined: ${Object.keys(connections).join(', ')}`
        )
      }
      return sharedFactory(
        (resolved) =>
          new RedisStore(
            () => (redis as any).connection(config.connection),
            resolved.ageInSeconds,
            config.prefix,
            { localCache: config.localCache, cacheBytes: config.cacheBytes }
          )
      )
    })
  },

  /** Sessions in a DynamoDB table. */
  dynamodb: (config: DynamoDBStoreConfig): ConfigProvider<SessionStoreFactory> => {
    if (!config || (!('client' in config) && !('clientConfig' in config))) {
      invalid('"stores.dynamodb()" needs a "client" (a DynamoDBClient) or a "clientConfig"')
    }
    return configProvider.create(async () => {
      const { DynamoDBStore } = await import('./stores/dynamodb.js')
      const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb')
      const client = 'client' in config ? config.client : new DynamoDBClient(config.clientConfig)
      return sharedFactory(
        (resolved) =>
          new DynamoDBStore(client, resolved.ageInSeconds, {
            tableName: config.tableName,
            keyAttribute: config.keyAttribute,
            userIndexName: config.userIndexName,
            ownsClient: !('client' in config),
          })
      )
    })
  },

  /** Sessions in a SQL table through @adonisjs/lucid. */
  database: (config: DatabaseStoreConfig = {}): ConfigProvider<SessionStoreFactory> => {
    const gcProbability = config.gcProbability ?? 2
    if (typeof gcProbability !== 'number' || !(gcProbability >= 0 && gcProbability <= 100)) {
      invalid(
        `"stores.database({ gcProbability })" is "${String(gcProbability)}": use a percentage from 0 (never) to 100 (every write)`
      )
    }
    return configProvider.create(async (app) => {
      const { DatabaseStore } = await import('./stores/database.js')
      const db = await app.container.make('lucid.db' as any).catch(() => {
        invalid('"stores.database()" needs @adonisjs/lucid: run "node ace add @adonisjs/lucid"')
      })
      const connectionName = config.connectionName ?? (db as any).primaryConnectionName
      if (!(db as any).manager.has(connectionName)) {
        invalid(
          `"stores.database()" uses the connection "${connectionName}", which "config/database.ts" does not define`
        )
      }
      return sharedFactory(
        (resolved) =>
          new DatabaseStore((db as any).connection(connectionName), resolved.ageInSeconds, {
            tableName: config.tableName,
            gcProbability,
          })
      )
    })
  },
}
