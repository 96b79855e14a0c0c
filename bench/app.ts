/**
 * One benchmark app, run in its own child process by `bench/run.ts`:
 * a real AdonisJS v6 app with adonis-satchel, with @adonisjs/session 7.x, or
 * with no session middleware at all (the floor), serving the benchmark routes
 * on a loopback port. It talks to the parent over the fork IPC channel.
 *
 * Usage (by the parent): fork('bench/app.ts', [variant, store, fileLocation, busyMicroseconds?]).
 * A floor app given `busyMicroseconds` runs `BusyMiddleware` (calibration).
 */
import { writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { Session as InspectorSession } from 'node:inspector/promises'
import type { AddressInfo } from 'node:net'
import { IgnitorFactory } from '@adonisjs/core/factories'
import type { HttpContext } from '@adonisjs/core/http'
import { defineConfig as defineRedisConfig } from '@adonisjs/redis'
import { defineConfig, stores } from '../index.js'
import { profileOfOneKilobyte } from './fixtures.js'
import { appRedisSettings } from './settings.js'
import { RoundTripCounter } from './round_trip_counter.js'
import BusyMiddleware from './busy_middleware.js'
import type { ChildMessage, ParentMessage, StoreName, Variant } from './types.js'

/**
 * The official package, imported through a computed specifier so that its
 * `ctx.session` type augmentation never meets ours in the type checker.
 */
const OFFICIAL_PACKAGE = 'adonisjs-session-official'

/**
 * The options both session packages receive, so they are compared like for like.
 */
const SESSION_OPTIONS = {
  cookieName: 'adonis-session',
  age: '2h',
  clearWithBrowser: false,
  cookie: { path: '/', httpOnly: true, secure: false, sameSite: 'lax' as const },
}

/**
 * The session config of adonis-satchel for one store.
 */
function satchelConfig(store: StoreName, fileLocation: string) {
  const entries = {
    memory: {},
    cookie: { cookie: stores.cookie() },
    file: { file: stores.file({ location: fileLocation }) },
    redis: {
      redis: stores.redis({
        connection: 'main',
        localCache: process.env.BENCH_REDIS_LOCAL_CACHE === '1',
      }),
    },
  }
  return defineConfig<Record<string, any>>({ ...SESSION_OPTIONS, store, stores: entries[store] })
}

/**
 * The session config of @adonisjs/session for one store.
 */
async function officialConfig(store: StoreName, fileLocation: string) {
  const official = await import(OFFICIAL_PACKAGE)
  const entries = {
    memory: {},
    cookie: { cookie: official.stores.cookie() },
    file: { file: official.stores.file({ location: fileLocation }) },
    redis: { redis: official.stores.redis({ connection: 'main' }) },
  }
  return official.defineConfig({ ...SESSION_OPTIONS, store, stores: entries[store] })
}

/**
 * The routes of the benchmark. The floor app answers the same paths with the
 * same bodies without a session, so every ratio compares equal work.
 */
function registerRoutes(router: any, withSession: boolean) {
  const profileSummary = (profile: any) => ({
    name: profile?.name,
    items: Array.isArray(profile?.items) ? profile.items.length : 0,
  })
  const floorProfile = profileOfOneKilobyte()
  let writes = 0

  router.get('/none', () => ({ ok: true }))
  router.get('/read', ({ session }: HttpContext) => ({
    visits: withSession ? session.get('visits') : 1,
  }))
  router.get('/write', ({ session }: HttpContext) => {
    writes++
    if (withSession) session.put('last_write', writes)
    return { ok: true }
  })
  router.get('/flash', ({ session }: HttpContext) => {
    if (withSession) session.flash('notice', 'Saved')
    return { ok: true }
  })
  router.get('/read-1kb', ({ session }: HttpContext) =>
    profileSummary(withSession ? session.get('profile') : floorProfile)
  )
  router.get('/seed', ({ session }: HttpContext) => {
    if (withSession) session.put('visits', 1)
    return { ok: true }
  })
  router.get('/seed-1kb', ({ session }: HttpContext) => {
    if (withSession) {
      session.put('visits', 1)
      session.put('profile', profileOfOneKilobyte())
    }
    return { ok: true }
  })
}

/**
 * Boot the app of one variant and store, serve it on a free loopback port.
 */
async function boot(
  variant: Variant,
  store: StoreName,
  fileLocation: string,
  busyMicroseconds: number | undefined
) {
  const providers: (() => Promise<any>)[] = []
  let session: unknown
  if (variant === 'satchel') {
    providers.push(() => import('../providers/session_provider.js'))
    session = satchelConfig(store, fileLocation)
  } else if (variant === 'official') {
    providers.push(() => import(`${OFFICIAL_PACKAGE}/session_provider`))
    session = await officialConfig(store, fileLocation)
  }
  const usesRedis = variant !== 'floor' && store === 'redis'
  if (usesRedis) {
    providers.push(() => import('@adonisjs/redis/redis_provider'))
  }

  const ignitor = new IgnitorFactory()
    .merge({ rcFileContents: { providers } })
    .withCoreConfig()
    .withCoreProviders()
    .merge({
      config: {
        ...(session ? { session } : {}),
        redis: defineRedisConfig({
          connection: 'main',
          connections: { main: { ...appRedisSettings(), connectionName: `bench-${variant}` } },
        }),
      },
    })
    .create(new URL('./tmp/', import.meta.url), { importer: (path) => import(path) })

  const app = ignitor.createApp('web')
  await app.init()
  await app.boot()

  const server = await app.container.make('server')
  const router = await app.container.make('router')
  server.use([() => import('@adonisjs/core/bodyparser_middleware')])
  if (variant === 'satchel') {
    router.use([() => import('../src/session_middleware.js')])
  } else if (variant === 'official') {
    router.use([() => import(`${OFFICIAL_PACKAGE}/session_middleware`)])
  } else if (busyMicroseconds !== undefined) {
    BusyMiddleware.microseconds = busyMicroseconds
    router.use([() => import('./busy_middleware.js')])
  }
  registerRoutes(router, variant !== 'floor')
  await app.start(async () => {})
  await server.boot()

  const counter = new RoundTripCounter()
  if (usesRedis) {
    const redis = (await app.container.make('redis' as any)) as any
    counter.attach(redis.connection('main').ioConnection)
  }

  const httpServer = createServer((request, response) => server.handle(request, response))
  httpServer.keepAliveTimeout = 60_000
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve))
  const { port } = httpServer.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    counter,
    async close() {
      httpServer.closeAllConnections()
      await new Promise<void>((resolve) => httpServer.close(() => resolve()))
      await app.terminate()
    },
  }
}

/**
 * Send a message to the parent process.
 */
function send(message: ChildMessage) {
  process.send!(message)
}

/**
 * The V8 CPU profiler of this process, started and stopped by the parent so a
 * profile covers the load only, not the boot.
 */
class CpuProfiler {
  #session: InspectorSession | undefined

  /** Start sampling. */
  async start() {
    this.#session = new InspectorSession()
    this.#session.connect()
    await this.#session.post('Profiler.enable')
    await this.#session.post('Profiler.start')
  }

  /** Stop sampling and write the `.cpuprofile` file. */
  async stop(path: string) {
    const { profile } = await this.#session!.post('Profiler.stop')
    await writeFile(path, JSON.stringify(profile))
    this.#session!.disconnect()
  }
}

const [variant, store, fileLocation, busy] = process.argv.slice(2) as [
  Variant,
  StoreName,
  string,
  string | undefined,
]
try {
  const running = await boot(variant, store, fileLocation, busy ? Number(busy) : undefined)
  const profiler = new CpuProfiler()
  process.on('message', async (message: ParentMessage) => {
    if (message.type === 'redis-stats') {
      send({ type: 'redis-stats', ...running.counter.stats() })
    } else if (message.type === 'cpu-usage') {
      const usage = process.cpuUsage()
      send({ type: 'cpu-usage', microseconds: usage.user + usage.system })
    } else if (message.type === 'profile-start') {
      await profiler.start()
      send({ type: 'profile-started' })
    } else if (message.type === 'profile-stop') {
      await profiler.stop(message.path)
      send({ type: 'profile-written' })
    } else if (message.type === 'exit') {
      await running.close()
      process.exit(0)
    }
  })
  send({ type: 'ready', url: running.url })
} catch (error) {
  send({
    type: 'failed',
    error: error instanceof Error ? (error.stack ?? error.message) : String(error),
  })
  process.exit(1)
}
