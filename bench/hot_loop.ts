/**
 * The session layer's own cost per request, without HTTP: one real
 * HttpContext (from @adonisjs/core's factories) goes through the session
 * middleware of adonis-satchel and of @adonisjs/session in a loop, with a
 * returning visitor's cookie, per store and case, interleaved in rounds. Each
 * case also runs its floor: what the work cannot avoid (one JSON parse of the
 * stored payload, plus a stringify when the case writes; on the cookie store
 * one unseal, plus a seal when it writes, in the shared AdonisJS format; on
 * the file store one read of the file, plus a write and rename; on Redis one
 * GET, plus a SET). Steadier than the load test (no sockets, no load
 * generator), so small changes to the hot path show; a hot loop keeps caches
 * warm, so a request in a real app costs more than this.
 *
 * Usage: npm run bench:hot [-- <stores,…|all> [<cases,…|all> [iterations scale]]]
 * Writes bench/hot_results.json.
 */
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { IncomingMessage, ServerResponse } from 'node:http'
import { Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { HttpContextFactory, RequestFactory, ResponseFactory } from '@adonisjs/core/factories/http'
import { EncryptionFactory } from '@adonisjs/core/factories/encryption'
import type { HttpContext } from '@adonisjs/core/http'
import { RedisConnection } from '@adonisjs/redis'
import { SessionMiddlewareFactory } from '../factories/main.js'
import { stores } from '../index.js'
import { RedisStore } from '../src/stores/redis.js'
import { profileOfOneKilobyte } from './fixtures.js'
import { redisSettings } from './settings.js'
import { median } from './statistics.js'

/**
 * The official package, imported through a computed specifier so that its
 * `ctx.session` augmentation does not clash with ours.
 */
const OFFICIAL_PACKAGE: string = 'adonisjs-session-official'

const STORES = ['memory', 'cookie', 'file', 'redis'] as const
const CASES = ['none', 'read', 'write', 'flash', 'read-1kb', 'read-10kb'] as const
type Store = (typeof STORES)[number]
type Case = (typeof CASES)[number]
type Variant = 'satchel' | 'official' | 'floor'
const VARIANTS: Variant[] = ['satchel', 'official', 'floor']
const ROUNDS = 5

/**
 * Requests per round on each store (at scale 1): enough for ~0.1-0.5 s.
 */
const ITERATIONS: Record<Store, number> = { memory: 20_000, cookie: 5000, file: 3000, redis: 2000 }

function listArgument<T extends string>(text: string | undefined, all: readonly T[]): T[] {
  if (!text || text === 'all') return [...all]
  const chosen = text.split(',') as T[]
  for (const item of chosen) {
    if (!all.includes(item)) {
      throw new Error(
        `"${item}" is not one of ${all.join(', ')}. Usage: bench/hot_loop.ts [stores|all] [cases|all] [scale]`
      )
    }
  }
  return chosen
}

const [storesText, casesText, scaleText = '1'] = process.argv.slice(2)
const chosenStores = listArgument(storesText, STORES)
const chosenCases = listArgument(casesText, CASES)
const scale = Number(scaleText)

const SESSION_OPTIONS = {
  age: '2h',
  cookieName: 'adonis-session',
  clearWithBrowser: false,
  cookie: { path: '/', httpOnly: true, sameSite: 'lax' as const },
}

/** What a case puts in the session when it is seeded. */
function seedValues(name: Case): Record<string, unknown> {
  if (name === 'read-1kb') return { visits: 1, profile: profileOfOneKilobyte() }
  if (name === 'read-10kb') {
    return { visits: 1, profiles: Array.from({ length: 10 }, () => profileOfOneKilobyte()) }
  }
  return { visits: 1 }
}

/** A real HttpContext over a request that carries `cookie`. */
function contextWith(cookie: string | undefined): HttpContext {
  const request = new IncomingMessage(new Socket())
  request.url = '/'
  if (cookie) request.headers.cookie = cookie
  const response = new ServerResponse(request)
  return new HttpContextFactory()
    .merge({
      request: new RequestFactory().merge({ req: request, res: response }).create(),
      response: new ResponseFactory().merge({ req: request, res: response }).create(),
    })
    .create()
}

interface Middleware {
  handle(ctx: HttpContext, next: () => Promise<unknown>): Promise<unknown>
}

const fileLocation = mkdtempSync(join(tmpdir(), 'satchel-hot-'))
const redis = new RedisConnection('main', redisSettings())

/** The session middleware of one package on one store. */
async function middlewareOf(variant: 'satchel' | 'official', store: Store): Promise<Middleware> {
  const location = join(fileLocation, variant)
  if (variant === 'satchel') {
    const shared = new RedisStore(redis, 7200)
    const entries = {
      memory: {},
      cookie: { cookie: stores.cookie() },
      file: { file: stores.file({ location }) },
      redis: { redis: Object.assign(() => shared, { shared: true }) },
    }
    return new SessionMiddlewareFactory()
      .merge({ config: { ...SESSION_OPTIONS, store, stores: entries[store] } as any })
      .create()
  }
  const official = await import(OFFICIAL_PACKAGE)
  const { SessionMiddlewareFactory: OfficialFactory } = await import(
    `${OFFICIAL_PACKAGE}/factories`
  )
  const redisProvider = official.stores.redis({ connection: 'main' })
  const entries = {
    memory: {},
    cookie: { cookie: official.stores.cookie() },
    file: { file: official.stores.file({ location }) },
    redis: {
      redis: await redisProvider.resolver({
        container: { make: async () => ({ connection: () => redis }) },
      }),
    },
  }
  return new OfficialFactory()
    .merge({ config: { ...SESSION_OPTIONS, store, stores: entries[store] } })
    .create()
}

/** One request of a case, in the session API both packages share. */
function handlerOf(ctx: HttpContext, name: Case): () => Promise<unknown> {
  let writes = 0
  const session = () => (ctx as any).session
  switch (name) {
    case 'none':
      return async () => {}
    case 'write':
      return async () => session().put('last_write', ++writes)
    case 'flash':
      return async () => session().flash('notice', 'Saved')
    default:
      return async () => session().get('visits')
  }
}

/**
 * A loop of requests through a middleware: the request carries the cookies
 * of a session seeded with the case's values.
 */
async function sessionLoop(variant: 'satchel' | 'official', store: Store, name: Case) {
  const middleware = await middlewareOf(variant, store)
  const seeding = contextWith(undefined)
  const values = seedValues(name)
  await middleware.handle(seeding, async () => {
    for (const [key, value] of Object.entries(values)) (seeding as any).session.put(key, value)
  })
  const cookie = [seeding.response.getHeader('set-cookie')]
    .flat()
    .map((line) => String(line).split(';')[0])
    .join('; ')
  const ctx = contextWith(cookie)
  const handler = handlerOf(ctx, name)
  return async (count: number) => {
    for (let index = 0; index < count; index++) {
      ctx.response.removeHeader('cache-control')
      ctx.response.removeHeader('set-cookie')
      await middleware.handle(ctx, handler)
    }
  }
}

const encryption = new EncryptionFactory().create()

/** The floor of a case: what any session layer must do for it. */
async function floorLoop(store: Store, name: Case) {
  const sessionId = 'abcdefghijklmnopqrstuvwx'
  const writes = name === 'write' || name === 'flash'
  const payload = JSON.stringify({ message: seedValues(name), purpose: sessionId })
  const sealed = encryption.encrypt(seedValues(name), '2h', sessionId)
  const path = join(fileLocation, `floor-${sessionId}.txt`)
  writeFileSync(path, payload)
  await redis.set(sessionId, payload)
  const steps: Record<Store, () => Promise<void> | void> = {
    memory: () => {
      const data = JSON.parse(payload)
      if (writes) JSON.stringify(data)
    },
    cookie: () => {
      const data = encryption.decrypt<Record<string, unknown>>(sealed, sessionId)
      if (writes) encryption.encrypt(data, '2h', sessionId)
    },
    file: () => {
      const data = JSON.parse(readFileSync(path, 'utf8'))
      if (writes) {
        writeFileSync(`${path}.tmp`, JSON.stringify(data))
        renameSync(`${path}.tmp`, path)
      }
    },
    redis: async () => {
      const data = JSON.parse((await redis.get(sessionId))!)
      if (writes) await redis.set(sessionId, JSON.stringify(data), 'EX', 7200)
    },
  }
  const step = steps[store]
  return async (count: number) => {
    for (let index = 0; index < count; index++) await step()
  }
}

/** CPU microseconds per request of `count` requests. */
async function cpuPerRequest(loop: (count: number) => Promise<void>, count: number) {
  const before = process.cpuUsage()
  await loop(count)
  const used = process.cpuUsage(before)
  return (used.user + used.system) / count
}

interface HotCell {
  store: Store
  case: Case
  cpuMicrosecondsPerRequest: Record<Variant, number>
  satchelOverOfficial: number
  satchelOverFloor: number
}

const cells: HotCell[] = []
for (const store of chosenStores) {
  for (const name of chosenCases) {
    if (store === 'cookie' && name === 'read-10kb') continue /* over the 4 KB cookie limit */
    const iterations = Math.max(100, Math.round(ITERATIONS[store] * scale))
    const loops = {
      satchel: await sessionLoop('satchel', store, name),
      official: await sessionLoop('official', store, name),
      floor: await floorLoop(store, name),
    }
    for (const variant of VARIANTS) await loops[variant](Math.ceil(iterations / 2))
    const rounds: Record<Variant, number[]> = { satchel: [], official: [], floor: [] }
    for (let round = 0; round < ROUNDS; round++) {
      for (const variant of VARIANTS) {
        rounds[variant].push(await cpuPerRequest(loops[variant], iterations))
      }
    }
    const cpu = {
      satchel: median(rounds.satchel),
      official: median(rounds.official),
      floor: median(rounds.floor),
    }
    const cell = {
      store,
      case: name,
      cpuMicrosecondsPerRequest: cpu,
      satchelOverOfficial: cpu.satchel / cpu.official,
      satchelOverFloor: cpu.satchel / cpu.floor,
    }
    cells.push(cell)
    console.log(
      `${store.padEnd(6)} ${name.padEnd(9)} satchel ${cpu.satchel.toFixed(2).padStart(7)} µs  official ${cpu.official.toFixed(2).padStart(7)} µs  floor ${cpu.floor.toFixed(2).padStart(7)} µs  satchel/official ${cell.satchelOverOfficial.toFixed(2)}  satchel/floor ${cell.satchelOverFloor.toFixed(2)}`
    )
  }
}

await writeFile(
  new URL('./hot_results.json', import.meta.url),
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      rounds: ROUNDS,
      targets: { satchelOverOfficial: 0.5, satchelOverFloor: 1.5 },
      cells,
    },
    null,
    2
  )}\n`
)
console.log('Results written to bench/hot_results.json')
await redis.quit()
rmSync(fileLocation, { recursive: true, force: true })
