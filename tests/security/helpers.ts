import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { execFile } from 'node:child_process'
import { request as httpRequest, Agent } from 'node:http'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { configProvider } from '@adonisjs/core'
import type { ConfigProvider } from '@adonisjs/core/types'
import type { Router } from '@adonisjs/core/http'
import { KeyRing } from '../../src/key_ring.js'
import { defineConfig, stores } from '../../src/define_config.js'
import type { SessionConfigInput } from '../../src/define_config.js'
import { MemoryStore } from '../../src/stores/memory.js'
import type { SessionStoreContract, SessionStoreFactory } from '../../src/types.js'
import { createTestApp, CookieClient, type TestApp } from '../../tests_helpers/index.js'
import {
  createSessionsTable,
  dropSessionsTable,
  epochMilliseconds,
  lucidConfig,
  uniqueTableName,
  type SqlEngine,
} from '../../tests_helpers/databases.js'
import {
  createSessionTable,
  startDynamoDB,
  type LocalDynamoDB,
} from '../../tests_helpers/dynalite.js'
import { GetItemCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb'

/**
 * The app key `IgnitorFactory.withCoreConfig()` gives the test apps.
 */
export const APP_KEY = 'averylongrandomsecretkey'

/**
 * The default name of the id cookie.
 */
export const COOKIE_NAME = 'adonis_session'

/**
 * True on CI, where a missing service fails its tests instead of skipping them.
 */
export const ON_CI = process.env.CI === 'true'

/**
 * The stores the HTTP tests loop over. Server stores keep data on the server.
 */
export type StoreName = 'cookie' | 'memory' | 'file' | 'redis' | 'database' | 'dynamodb'

/**
 * A unique folder under tmp/ (not created).
 */
export function temporaryFolder(prefix: string): string {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`
  return fileURLToPath(new URL(`../../tmp/security/${name}`, import.meta.url))
}

/**
 * Sign a session id like the app does with `key`.
 */
export function signId(id: unknown, key: string = APP_KEY, cookieName = COOKIE_NAME): string {
  return new KeyRing([key]).sign(id, cookieName)
}

/**
 * The session id in a client's jar, verified with `key`; undefined when none.
 */
export function sessionIdOf(client: CookieClient, key: string = APP_KEY): string | undefined {
  const raw = client.jar.get(COOKIE_NAME)
  if (!raw) {
    return undefined
  }
  return new KeyRing([key]).unsign<string>(decodeURIComponent(raw), COOKIE_NAME)?.value
}

/**
 * A copy of a client with the same cookies: a jar captured at this moment.
 */
export function captureJar(client: CookieClient): CookieClient {
  const copy = new CookieClient(client.baseUrl)
  copy.jar = new Map(client.jar)
  return copy
}

/**
 * One call a session made on a store.
 */
export interface StoreCall {
  method: string
  sessionId: unknown
}

/**
 * The store methods a session calls.
 */
const STORE_METHODS = [
  'read',
  'peek',
  'write',
  'destroy',
  'touch',
  'merge',
  'tag',
  'untag',
  'tagged',
]

/**
 * How a wrapped store behaves besides recording: extra latency per method.
 */
export interface WrapOptions {
  delays?: Partial<Record<string, number>>
}

/**
 * A view of a real store that records each call (and can add latency); every
 * call still reaches the store.
 */
export function wrapStore<Store extends SessionStoreContract>(
  store: Store,
  calls: StoreCall[],
  options: WrapOptions = {}
): Store {
  return new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property)
      if (typeof value !== 'function' || !STORE_METHODS.includes(String(property))) {
        return value
      }
      return (...args: unknown[]) => {
        calls.push({ method: String(property), sessionId: args[0] })
        const delay = options.delays?.[String(property)]
        if (!delay) {
          return value.apply(target, args)
        }
        return sleep(delay).then(() => value.apply(target, args))
      }
    },
  })
}

/**
 * A store entry of `config/session.ts` whose stores are wrapped by `wrapStore`.
 */
export function recordedEntry(
  entry: SessionStoreFactory | ConfigProvider<SessionStoreFactory>,
  calls: StoreCall[],
  options: WrapOptions = {}
): ConfigProvider<SessionStoreFactory> {
  return configProvider.create(async (app) => {
    const factory =
      (await configProvider.resolve<SessionStoreFactory>(app, entry)) ??
      (entry as SessionStoreFactory)
    const wrapped: SessionStoreFactory = (ctx, config) =>
      wrapStore(factory(ctx, config), calls, options)
    return Object.assign(wrapped, { shared: (factory as { shared?: boolean }).shared })
  })
}

/**
 * A memory store of its own (the built-in one is shared by the whole process),
 * so tests stay apart; `instance()` is the store once a request created it.
 */
export function privateMemoryEntry() {
  let store: MemoryStore | undefined
  const factory: SessionStoreFactory = (_ctx, config) =>
    (store ??= new MemoryStore(config.ageInSeconds))
  return { factory: Object.assign(factory, { shared: true }), instance: () => store }
}

/**
 * Whether a store can run here, and why not.
 */
export interface StoreAvailability {
  available: boolean
  reason?: string
}

/**
 * True when a TCP port answers on loopback.
 */
async function portAnswers(port: number, host = '127.0.0.1'): Promise<boolean> {
  const { Socket } = await import('node:net')
  return new Promise((resolve) => {
    const socket = new Socket()
    const done = (answer: boolean) => {
      socket.destroy()
      resolve(answer)
    }
    socket.setTimeout(500, () => done(false))
    socket.once('error', () => done(false))
    socket.connect(port, host, () => done(true))
  })
}

/**
 * The Redis the tests use (REDIS_HOST / REDIS_PORT).
 */
export const REDIS = {
  host: process.env.REDIS_HOST ?? '127.0.0.1',
  port: Number(process.env.REDIS_PORT ?? 6379),
}

/**
 * Whether each store can run on this machine: the server stores need their
 * store file (being written by another engineer) and their service.
 */
export async function storeAvailability(name: StoreName): Promise<StoreAvailability> {
  const storeFile = fileURLToPath(new URL(`../../src/stores/${name}.ts`, import.meta.url))
  if (!existsSync(storeFile)) {
    return { available: false, reason: `src/stores/${name}.ts does not exist yet` }
  }
  if (name === 'redis' && !(await portAnswers(REDIS.port, REDIS.host))) {
    return { available: false, reason: `no Redis answers on ${REDIS.host}:${REDIS.port}` }
  }
  return { available: true }
}

/**
 * The stores a test loops over, each with its availability. Call at the top
 * level of a spec file (top-level await).
 */
export async function storeCases(names: StoreName[]) {
  const cases: { name: StoreName; availability: StoreAvailability }[] = []
  for (const name of names) {
    cases.push({ name, availability: await storeAvailability(name) })
  }
  return cases
}

/**
 * True when a test must be skipped: its store is missing and we are not on CI
 * (on CI the test runs and fails on the missing store).
 */
export function skipUnlessAvailable(availability: StoreAvailability): boolean {
  if (!availability.available && !ON_CI) {
    console.warn(`SKIPPED security tests: ${availability.reason}`)
    return true
  }
  return false
}

/**
 * Fail at once (CI) when the store of a test is missing.
 */
export function assertAvailable(availability: StoreAvailability) {
  if (!availability.available) {
    throw new Error(
      `This test needs a store that is missing on this machine: ${availability.reason}`
    )
  }
}

/**
 * Options of a security test app.
 */
export interface SecurityAppOptions {
  /** A built-in store name, or the name of one of `extraStores`. */
  store: string
  /**
   * The SQL engine of the database store: SQLite (a file per app, by default),
   * or PostgreSQL / MariaDB with a table of its own, dropped on close.
   */
  engine?: SqlEngine
  /** More store entries (custom factories), by name. */
  extraStores?: Record<string, SessionStoreFactory | ConfigProvider<SessionStoreFactory>>
  session?: Partial<Omit<SessionConfigInput<any>, 'store' | 'stores'>>
  routes?: (router: Router) => void
  calls?: StoreCall[]
  wrap?: WrapOptions
  config?: Record<string, any>
  /** The app key, or on AdonisJS 7 the keys of the default encrypter, newest first. */
  appKey?: string | string[]
  location?: string
  /** Boot the Edge provider too, so `ctx.view` exists. */
  withEdge?: boolean
  /**
   * Handle errors with the core ExceptionHandler, as a generated app does, or
   * with the given subclass of it.
   */
  withExceptionHandler?: boolean | (new () => unknown)
}

/**
 * A booted test app for one store, plus what its server store wrote to.
 */
export interface SecurityApp extends TestApp {
  location: string
  client(): CookieClient
  /** The engine behind the app's server store, to check what it holds. */
  backend: StoreBackend
}

/**
 * Direct access to what a server store keeps, bypassing the package.
 */
export interface StoreBackend {
  /** The stored payload of a session as the engine holds it, or null. */
  raw(sessionId: string): Promise<string | null>
  /** When the engine will expire the session (epoch ms), or null when it holds none. */
  expiresAt(sessionId: string): Promise<number | null>
  /** Replace the stored payload with any text (to corrupt it). */
  overwrite(sessionId: string, contents: string): Promise<void>
  /** Move the expiry into the past without deleting the entry (not possible on Redis). */
  expire?(sessionId: string): Promise<void>
}

/**
 * The store entries of a security app: the named store, optionally recorded.
 */
async function storeEntries(
  options: SecurityAppOptions,
  location: string,
  memory: SessionStoreFactory,
  redisPrefix: string,
  dynamo: LocalDynamoDB | undefined,
  database: { engine: SqlEngine; tableName: string }
) {
  const entries: Record<string, SessionStoreFactory | ConfigProvider<SessionStoreFactory>> = {
    cookie: stores.cookie(),
    memory,
    file: stores.file({ location }),
    ...options.extraStores,
  }
  if (options.store === 'redis') {
    entries.redis = stores.redis({ connection: 'main', prefix: redisPrefix })
  }
  if (options.store === 'database') {
    entries.database = stores.database({
      connectionName: database.engine,
      tableName: database.tableName,
    })
  }
  if (dynamo) {
    entries.dynamodb = stores.dynamodb({ client: dynamo.client, userIndexName: 'by_user' })
  }
  const calls = options.calls
  if (calls) {
    entries[options.store] = recordedEntry(entries[options.store], calls, options.wrap)
  }
  return entries
}

/**
 * Providers and config a server store needs in the test app.
 */
async function serviceSetup(store: string, location: string, engine: SqlEngine) {
  if (store === 'redis') {
    const { defineConfig: defineRedisConfig } = await import('@adonisjs/redis')
    return {
      providers: [() => import('@adonisjs/redis/redis_provider')],
      config: {
        redis: defineRedisConfig({
          connection: 'main',
          connections: { main: { host: REDIS.host, port: REDIS.port, maxRetriesPerRequest: 1 } },
        }),
      },
    }
  }
  if (store === 'database' && engine !== 'sqlite') {
    return {
      providers: [() => import('@adonisjs/lucid/database_provider')],
      config: { database: lucidConfig(engine) },
    }
  }
  if (store === 'database') {
    const { defineConfig: defineLucidConfig } = await import('@adonisjs/lucid')
    return {
      providers: [() => import('@adonisjs/lucid/database_provider')],
      config: {
        database: defineLucidConfig({
          connection: 'sqlite',
          connections: {
            sqlite: {
              client: 'better-sqlite3',
              connection: { filename: `${location}.sqlite3` },
              useNullAsDefault: true,
            },
          },
        }),
      },
    }
  }
  return { providers: [], config: {} }
}

/**
 * The Lucid connection of the database store of an app.
 */
async function databaseConnection(app: TestApp, engine: SqlEngine) {
  return ((await app.app.container.make('lucid.db' as any)) as any).connection(engine)
}

/**
 * Boot a real app for one store with the standard security routes (and
 * `routes` for more).
 */
export async function bootSecurityApp(options: SecurityAppOptions): Promise<SecurityApp> {
  const location = options.location ?? temporaryFolder(`${options.store}_store`)
  await mkdir(dirname(location), { recursive: true })
  const engine = options.engine ?? 'sqlite'
  const database = { engine, tableName: engine === 'sqlite' ? 'sessions' : uniqueTableName() }
  const service = await serviceSetup(options.store, location, engine)
  const memory = privateMemoryEntry()
  const redisPrefix = `security:${randomBytes(4).toString('hex')}:`
  const dynamo = options.store === 'dynamodb' ? await startDynamoDB() : undefined
  if (dynamo) {
    await createSessionTable(dynamo.client, 'Session', { userIndexName: 'by_user' })
  }
  const session = defineConfig({
    ...options.session,
    store: options.store,
    stores: await storeEntries(options, location, memory.factory, redisPrefix, dynamo, database),
  } as any)
  const app = await createTestApp({
    session,
    appKey: options.appKey,
    providers: options.withEdge
      ? [...service.providers, () => import('@adonisjs/core/providers/edge_provider')]
      : service.providers,
    config: { ...service.config, ...options.config },
    routes: async (router, booted) => {
      if (options.withExceptionHandler) {
        const { ExceptionHandler } = await import('@adonisjs/core/http')
        const handler =
          typeof options.withExceptionHandler === 'function'
            ? options.withExceptionHandler
            : ExceptionHandler
        const server = await booted.container.make('server')
        server.errorHandler(async () => ({ default: handler as typeof ExceptionHandler }))
      }
      standardRoutes(router)
      options.routes?.(router)
    },
  })
  if (options.store === 'database') {
    await createSessionsTable(await databaseConnection(app, engine), database.tableName)
  }
  return {
    ...app,
    location,
    client: () => new CookieClient(app.url),
    backend: await backendOf(options.store, app, {
      location,
      redisPrefix,
      memory: memory.instance,
      dynamo,
      database,
    }),
    async close() {
      if (options.store === 'database' && engine !== 'sqlite') {
        await dropSessionsTable(await databaseConnection(app, engine), database.tableName)
      }
      await app.close()
      await dynamo?.close()
      await rm(location, { recursive: true, force: true })
      await rm(`${location}.sqlite3`, { force: true })
    },
  }
}

/**
 * The backend of a store: files, Redis keys, table rows or memory entries.
 */
async function backendOf(
  store: string,
  app: TestApp,
  where: {
    location: string
    redisPrefix: string
    memory: () => MemoryStore | undefined
    dynamo?: LocalDynamoDB
    database: { engine: SqlEngine; tableName: string }
  }
): Promise<StoreBackend> {
  if (where.dynamo) {
    return dynamoBackend(where.dynamo)
  }
  const ageMs = app.manager.config.ageInSeconds * 1000
  if (store === 'redis') {
    const redis = ((await app.app.container.make('redis' as any)) as any).connection('main')
    const key = (sessionId: string) => `${where.redisPrefix}${sessionId}`
    return {
      raw: (sessionId) => redis.get(key(sessionId)),
      async expiresAt(sessionId) {
        const ttl = await redis.pttl(key(sessionId))
        return ttl > 0 ? Date.now() + ttl : null
      },
      async overwrite(sessionId, contents) {
        await redis.set(key(sessionId), contents, 'EX', 60)
      },
    }
  }
  if (store === 'database') {
    const db = await databaseConnection(app, where.database.engine)
    const table = where.database.tableName
    const row = (sessionId: string) => db.from(table).where('id', sessionId).first()
    return {
      raw: async (sessionId) => (await row(sessionId))?.data ?? null,
      async expiresAt(sessionId) {
        const found = await row(sessionId)
        return found ? epochMilliseconds(found.expires_at) : null
      },
      async overwrite(sessionId, contents) {
        await db.from(table).where('id', sessionId).update({ data: contents })
      },
      async expire(sessionId) {
        const past = new Date(Date.now() - 1000)
        await db.from(table).where('id', sessionId).update({ expires_at: past })
      },
    }
  }
  if (store === 'memory') {
    return {
      async raw(sessionId) {
        const data = where.memory()?.read(sessionId)
        return data ? JSON.stringify(data) : null
      },
      expiresAt: async () => null,
      async overwrite() {
        throw new Error('The memory store only holds payloads its own encoder wrote')
      },
    }
  }
  const path = (sessionId: string) => join(where.location, `${sessionId}.txt`)
  return {
    raw: (sessionId) => readFile(path(sessionId), 'utf8').catch(() => null),
    async expiresAt(sessionId) {
      const stats = await stat(path(sessionId)).catch(() => null)
      return stats ? stats.mtimeMs + ageMs : null
    },
    overwrite: (sessionId, contents) => writeFile(path(sessionId), contents),
    async expire(sessionId) {
      const past = new Date(Date.now() - ageMs - 1000)
      await utimes(path(sessionId), past, past)
    },
  }
}

/**
 * The items of the DynamoDB store's `Session` table.
 */
function dynamoBackend(dynamo: LocalDynamoDB): StoreBackend {
  const Key = (sessionId: string) => ({ key: { S: sessionId } })
  const item = async (sessionId: string) =>
    (await dynamo.client.send(new GetItemCommand({ TableName: 'Session', Key: Key(sessionId) })))
      .Item
  const update = async (sessionId: string, attribute: string, value: AttributeValue) => {
    await dynamo.client.send(
      new UpdateItemCommand({
        TableName: 'Session',
        Key: Key(sessionId),
        UpdateExpression: 'SET #attribute = :value',
        ExpressionAttributeNames: { '#attribute': attribute },
        ExpressionAttributeValues: { ':value': value },
      })
    )
  }
  return {
    raw: async (sessionId) => (await item(sessionId))?.value?.S ?? null,
    async expiresAt(sessionId) {
      const expires = (await item(sessionId))?.expires_at?.N
      return expires === undefined ? null : Number(expires)
    },
    overwrite: (sessionId, contents) => update(sessionId, 'value', { S: contents }),
    expire: (sessionId) => update(sessionId, 'expires_at', { N: String(Date.now() - 1000) }),
  }
}

/**
 * The routes every security app has:
 * - GET /read: `{ values, fresh }`, changes nothing
 * - POST /put: puts every key of the JSON body
 * - POST /login: regenerates, puts `user`, tags it when the store can
 * - POST /logout: invalidates
 */
export function standardRoutes(router: Router) {
  router.get('/read', ({ session }) => ({ values: session.all(), fresh: session.fresh }))
  router.post('/put', ({ session, request }) => {
    session.put(request.body())
    return { values: session.all() }
  })
  router.post('/login', async ({ session, request }) => {
    const user = String(request.input('user', '7'))
    session.regenerate()
    session.put('user', user)
    if (session.supportsTagging() || session.config.cookieRevocation) {
      await session.tag(user)
    }
    return { user }
  })
  router.post('/logout', ({ session }) => {
    session.invalidate()
    return { ok: true }
  })
}

/**
 * A response of `rawGet`.
 */
export interface RawResponse {
  status: number
  setCookies: string[]
  body: string
}

/**
 * Keep-alive, but idle sockets are dropped after 1 s, well before the server's
 * 5 s keep-alive timeout: reusing a socket the server is closing gives ECONNRESET.
 */
const rawAgent = new Agent({ keepAlive: true, maxSockets: 16, timeout: 1000 })

/**
 * A GET with headers sent as raw bytes (latin1 strings): for cookies fetch
 * refuses, such as non-ASCII bytes.
 */
export function rawGet(
  baseUrl: string,
  path: string,
  headers: Record<string, string>
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      `${baseUrl}${path}`,
      { method: 'GET', headers, agent: rawAgent },
      (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk) => chunks.push(chunk))
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            setCookies: [response.headers['set-cookie'] ?? []].flat(),
            body: Buffer.concat(chunks).toString('utf8'),
          })
        )
        response.on('error', reject)
      }
    )
    request.on('error', reject)
    request.end()
  })
}

/**
 * The names of the cookies set by Set-Cookie lines.
 */
export function cookieNames(setCookies: string[]): string[] {
  return setCookies.map((line) => line.slice(0, line.indexOf('=')))
}

/**
 * The Set-Cookie line of a cookie, or undefined.
 */
export function setCookieOf(setCookies: string[], name: string): string | undefined {
  return setCookies.find((line) => line.startsWith(`${name}=`))
}

/**
 * What the debug probe printed: its debug output and logs (stderr and the
 * stdout before the last line) and every raw secret it saw or sent.
 */
export interface DebugProbeResult {
  output: string
  secrets: string[]
}

let debugProbe: Promise<DebugProbeResult> | undefined

/**
 * Run tests/security/debug_probe.ts once in a child process with
 * NODE_DEBUG=adonis-satchel (debuglog reads it at its first call, so it cannot
 * be switched on inside this process).
 */
export function runDebugProbe(): Promise<DebugProbeResult> {
  debugProbe ??= new Promise((resolve, reject) => {
    const script = fileURLToPath(new URL('./debug_probe.ts', import.meta.url))
    execFile(
      process.execPath,
      ['--import=ts-node-maintained/register/esm', script],
      {
        cwd: fileURLToPath(new URL('../../', import.meta.url)),
        env: { ...process.env, NODE_DEBUG: 'adonis-satchel' },
        maxBuffer: 16 * 1024 * 1024,
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`debug probe failed: ${error.message}\n${stderr}`))
          return
        }
        const lines = stdout.trimEnd().split('\n')
        const secrets = JSON.parse(lines.pop()!) as string[]
        resolve({ output: `${stderr}\n${lines.join('\n')}`, secrets })
      }
    )
  })
  return debugProbe
}
