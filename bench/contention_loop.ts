/**
 * Parallel requests of ONE session, without HTTP: 10 chains of requests, each
 * with its own real HttpContext carrying the same session cookie, go through
 * the session middleware of adonis-satchel and of @adonisjs/session at the
 * same time (`/write`: one key put; `/flash`: one message flashed), in
 * interleaved rounds. Reports the CPU time and the wall time per request of
 * each package (median of the rounds), and how many of adonis-satchel's
 * compare-and-swaps met a newer write (`mergeConflicts` of the store). The
 * session layer's own cost under contention, steadier than the load test.
 *
 * Usage: node --import=ts-node-maintained/register/esm bench/contention_loop.ts [stores|all] [requests per round]
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { IncomingMessage, ServerResponse } from 'node:http'
import { Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { HttpContextFactory, RequestFactory, ResponseFactory } from '@adonisjs/core/factories/http'
import type { HttpContext } from '@adonisjs/core/http'
import { RedisConnection } from '@adonisjs/redis'
import { SessionMiddlewareFactory } from '../factories/main.js'
import { stores } from '../index.js'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { DatabaseStore } from '../src/stores/database.js'
import { DynamoDBStore } from '../src/stores/dynamodb.js'
import { RedisStore } from '../src/stores/redis.js'
import {
  closeDatabase,
  createSessionsTable,
  dropSessionsTable,
  openDatabase,
  uniqueTableName,
} from '../tests_helpers/databases.js'
import { createSessionTable, localClientConfig } from '../tests_helpers/dynalite.js'
import { redisSettings } from './settings.js'
import { median } from './statistics.js'

const OFFICIAL_PACKAGE: string = 'adonisjs-session-official'
const STORES = ['memory', 'cookie', 'file', 'redis', 'database', 'dynamodb'] as const
const CASES = ['write', 'flash'] as const
type Store = (typeof STORES)[number]
type Case = (typeof CASES)[number]
type Package = 'satchel' | 'official'
const ROUNDS = 5
const CHAINS = 10

const [storesText = 'all', requestsText = '2000'] = process.argv.slice(2)
const chosenStores = storesText === 'all' ? [...STORES] : (storesText.split(',') as Store[])
const requestsPerRound = Number(requestsText)

const SESSION_OPTIONS = {
  age: '2h',
  cookieName: 'adonis-session',
  clearWithBrowser: false,
  cookie: { path: '/', httpOnly: true, sameSite: 'lax' as const },
}

interface Middleware {
  handle(ctx: HttpContext, next: () => Promise<unknown>): Promise<unknown>
}

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

/**
 * dynalite in a process of its own, so its CPU time is not counted as the
 * session layer's.
 */
async function startDynalite(): Promise<{ endpoint: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      "const s = require('dynalite')({ createTableMs: 0 }); s.listen(0, '127.0.0.1', () => process.send(s.address().port))",
    ],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }
  )
  const port = await new Promise<number>((resolve) =>
    child.once('message', (message) => resolve(Number(message)))
  )
  return { endpoint: `http://127.0.0.1:${port}`, child }
}

const fileLocation = mkdtempSync(join(tmpdir(), 'satchel-contention-'))
const redis = new RedisConnection('main', redisSettings())
const satchelRedis = new RedisStore(redis, 7200)
const tableName = uniqueTableName()
const db = chosenStores.includes('database') ? await openDatabase('postgres') : undefined
if (db) await createSessionsTable(db.connection('postgres'), tableName)
const dynalite = chosenStores.includes('dynamodb') ? await startDynalite() : undefined
const dynamo = dynalite ? new DynamoDBClient(localClientConfig(dynalite.endpoint)) : undefined
if (dynamo) await createSessionTable(dynamo, tableName)
const satchelStores = {
  redis: satchelRedis,
  database:
    db && new DatabaseStore(db.connection('postgres'), 7200, { tableName, gcProbability: 0 }),
  dynamodb: dynamo && new DynamoDBStore(dynamo, 7200, { tableName }),
}

async function middlewareOf(variant: Package, store: Store): Promise<Middleware> {
  const location = join(fileLocation, variant)
  if (variant === 'satchel') {
    const entries = {
      memory: {},
      cookie: { cookie: stores.cookie() },
      file: { file: stores.file({ location }) },
      redis: { redis: Object.assign(() => satchelRedis, { shared: true }) },
      database: { database: Object.assign(() => satchelStores.database!, { shared: true }) },
      dynamodb: { dynamodb: Object.assign(() => satchelStores.dynamodb!, { shared: true }) },
    }
    return new SessionMiddlewareFactory()
      .merge({ config: { ...SESSION_OPTIONS, store, stores: entries[store] } as any })
      .create()
  }
  const official = await import(OFFICIAL_PACKAGE)
  const { SessionMiddlewareFactory: OfficialFactory } = await import(
    `${OFFICIAL_PACKAGE}/factories`
  )
  const entries = {
    memory: {},
    cookie: { cookie: official.stores.cookie() },
    file: { file: official.stores.file({ location }) },
    redis: {
      redis: await official.stores.redis({ connection: 'main' }).resolver({
        container: { make: async () => ({ connection: () => redis }) },
      }),
    },
    database: db && {
      database: await official.stores
        .database({ connectionName: 'postgres', tableName, gcProbability: 0 })
        .resolver({ container: { make: async () => db } }),
    },
    dynamodb: dynamo && {
      dynamodb: await official.stores
        .dynamodb({ client: dynamo, tableName })
        .resolver({ container: { make: async () => undefined } }),
    },
  }
  return new OfficialFactory()
    .merge({ config: { ...SESSION_OPTIONS, store, stores: entries[store] } })
    .create()
}

/** The Cookie header of a response's Set-Cookie lines. */
function cookieOf(ctx: HttpContext): string {
  return [ctx.response.getHeader('set-cookie')]
    .flat()
    .filter(Boolean)
    .map((line) => String(line).split(';')[0])
    .join('; ')
}

/**
 * Chains of requests on one seeded session. On the cookie store, where the
 * data travels in the cookie, each chain sends back the cookies it was given
 * (as a browser tab would), so the chains race on their last writes.
 */
async function contentionLoop(variant: Package, store: Store, name: Case) {
  const middleware = await middlewareOf(variant, store)
  const seeding = contextWith(undefined)
  await middleware.handle(seeding, async () => (seeding as any).session.put('visits', 1))
  const cookies = Array.from({ length: CHAINS }, () => cookieOf(seeding))
  let writes = 0
  const handler = (ctx: HttpContext) => async () => {
    const session = (ctx as any).session
    if (name === 'write') session.put('last_write', ++writes)
    else session.flash('notice', 'Saved')
  }
  return async (count: number) => {
    await Promise.all(
      cookies.map(async (_, chain) => {
        for (let index = 0; index < count / CHAINS; index++) {
          const ctx = contextWith(cookies[chain])
          await middleware.handle(ctx, handler(ctx))
          if (store === 'cookie') {
            const sent = cookieOf(ctx)
            if (sent) cookies[chain] = sent
          }
        }
      })
    )
  }
}

async function measure(loop: (count: number) => Promise<void>, count: number) {
  const cpuBefore = process.cpuUsage()
  const started = process.hrtime.bigint()
  await loop(count)
  const used = process.cpuUsage(cpuBefore)
  return {
    cpu: (used.user + used.system) / count,
    wall: Number(process.hrtime.bigint() - started) / 1000 / count,
  }
}

for (const store of chosenStores) {
  for (const name of CASES) {
    const loops = {
      satchel: await contentionLoop('satchel', store, name),
      official: await contentionLoop('official', store, name),
    }
    for (const variant of ['satchel', 'official'] as const) {
      await loops[variant](requestsPerRound / 2)
    }
    const satchelStore =
      store in satchelStores ? satchelStores[store as keyof typeof satchelStores] : undefined
    const conflictsBefore = satchelStore?.mergeConflicts ?? 0
    const cpu: Record<Package, number[]> = { satchel: [], official: [] }
    const wall: Record<Package, number[]> = { satchel: [], official: [] }
    for (let round = 0; round < ROUNDS; round++) {
      for (const variant of ['satchel', 'official'] as const) {
        const result = await measure(loops[variant], requestsPerRound)
        cpu[variant].push(result.cpu)
        wall[variant].push(result.wall)
      }
    }
    const conflicts = satchelStore
      ? `  conflicts ${satchelStore.mergeConflicts - conflictsBefore} in ${ROUNDS * requestsPerRound} requests`
      : ''
    console.log(
      `${store.padEnd(6)} ${name.padEnd(5)} CPU µs/request satchel ${median(cpu.satchel).toFixed(1).padStart(6)} official ${median(cpu.official).toFixed(1).padStart(6)} (official÷satchel ${(median(cpu.official) / median(cpu.satchel)).toFixed(2)})  wall µs/request satchel ${median(wall.satchel).toFixed(1).padStart(6)} official ${median(wall.official).toFixed(1).padStart(6)} (official÷satchel ${(median(wall.official) / median(wall.satchel)).toFixed(2)})${conflicts}`
    )
  }
}
await redis.quit()
rmSync(fileLocation, { recursive: true, force: true })
if (db) {
  await dropSessionsTable(db.connection('postgres'), tableName)
  await closeDatabase(db)
}
dynamo?.destroy()
dynalite?.child.kill()
