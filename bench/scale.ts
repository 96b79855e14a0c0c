/**
 * How the stores' costs grow with the number of live sessions: with 1k, 10k
 * and 100k sessions in each store (memory, file, redis, database on
 * PostgreSQL, dynamodb on dynalite), the latency of `read` and `write` (p50,
 * p99 of 1000 calls on random sessions), `tagged(user)` for a user with 5
 * sessions, ending those sessions (what `destroyTagged` does), `prune` with
 * half of the sessions expired, and the memory store's heap per session
 * against @adonisjs/session's memory store (both through their middleware).
 *
 * Every size of a store is loaded side by side (its own table, folder, key
 * prefix or store) and measured in interleaved rounds, the order of the sizes
 * reversed every round, so load from other processes falls on every size
 * alike: a p50 is the median of the rounds' p50s. `file-uncached` is the file
 * store remembering nothing (`cacheBytes: 0`): every read opens its file.
 *
 * Usage: npm run bench:scale [-- <stores,…|all> [<sizes,…> [<rounds>]]]
 * Writes bench/scale_results.json.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { utimes, writeFile } from 'node:fs/promises'
import { IncomingMessage, ServerResponse } from 'node:http'
import { Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { BatchWriteItemCommand } from '@aws-sdk/client-dynamodb'
import { HttpContextFactory, RequestFactory, ResponseFactory } from '@adonisjs/core/factories/http'
import type { HttpContext } from '@adonisjs/core/http'
import { Redis } from 'ioredis'
import { SessionMiddlewareFactory } from '../factories/main.js'
import { newSessionId } from '../factories/store_conformance.js'
import { encodePayload, METADATA_KEY } from '../src/payload.js'
import { DatabaseStore } from '../src/stores/database.js'
import { DynamoDBStore } from '../src/stores/dynamodb.js'
import { FileStore } from '../src/stores/file.js'
import { MemoryStore } from '../src/stores/memory.js'
import { RedisStore } from '../src/stores/redis.js'
import type { SessionData, SessionStoreWithTaggingContract } from '../src/types.js'
import {
  closeDatabase,
  createSessionsTable,
  dropSessionsTable,
  openDatabase,
  uniqueTableName,
} from '../tests_helpers/databases.js'
import { createSessionTable, startDynamoDB } from '../tests_helpers/dynalite.js'
import { redisSettings } from './settings.js'

const OFFICIAL_PACKAGE: string = 'adonisjs-session-official'
const STORES = ['memory', 'file', 'file-uncached', 'redis', 'database', 'dynamodb'] as const
type Store = (typeof STORES)[number]
const AGE_SECONDS = 7200
const SAMPLES = 1000
const USER = 'scale-user'

/**
 * The most sessions a store prunes in this benchmark: against dynalite (in
 * process, in JavaScript) pruning 100k sessions took 6 minutes in one run.
 */
const PRUNE_LIMIT: Partial<Record<Store, number>> = { dynamodb: 10_000 }

const [storesText, sizesText, roundsText] = process.argv.slice(2)
const chosenStores = (
  !storesText || storesText === 'all' ? STORES : storesText.split(',')
) as Store[]
for (const store of chosenStores) {
  if (!STORES.includes(store)) throw new Error(`"${store}" is not one of ${STORES.join(', ')}`)
}
const sizes = (sizesText ?? '1000,10000,100000').split(',').map(Number)
const rounds = Number(roundsText ?? 5)

/** The data of a populated session, with the metadata a real session carries. */
function sessionData(index: number): SessionData {
  const now = Date.now()
  return { visits: index, [METADATA_KEY]: { createdAt: now, lastSeenAt: now } } as SessionData
}

/** The median of some numbers. */
function median(values: number[]): number {
  return percentile(values, 50)
}

/** The p-th percentile of some numbers. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

async function timed(action: () => unknown): Promise<number> {
  const start = performance.now()
  await action()
  return performance.now() - start
}

/**
 * One store under test: the store, a bulk loader that adds sessions straight
 * into its backend (fast enough for 100k), and how to make sessions expired.
 */
interface Subject {
  store: SessionStoreWithTaggingContract & { prune(): Promise<number> | number }
  load(ids: string[]): Promise<void>
  /** Bring the backend to the state a long-running one has after a bulk load. */
  settle?(): Promise<void>
  expire(ids: string[]): Promise<void>
  close(): Promise<void>
}

async function subjectOf(name: Store): Promise<Subject> {
  switch (name) {
    case 'memory': {
      const store = new MemoryStore(AGE_SECONDS)
      return {
        store,
        async load(ids) {
          ids.forEach((id, index) => store.write(id, sessionData(index)))
        },
        async expire(ids) {
          /* Rewrite them with a clock set past their age, then restore it. */
          const realNow = Date.now
          Date.now = () => realNow() - (AGE_SECONDS + 1) * 1000
          try {
            for (const id of ids) store.write(id, sessionData(0))
          } finally {
            Date.now = realNow
          }
        },
        async close() {},
      }
    }
    case 'file':
    case 'file-uncached': {
      const location = mkdtempSync(join(tmpdir(), 'satchel-scale-'))
      const store = new FileStore(location, AGE_SECONDS, {
        cacheBytes: name === 'file-uncached' ? 0 : undefined,
      })
      return {
        store,
        async load(ids) {
          ids.forEach((id, index) =>
            writeFileSync(join(location, `${id}.txt`), encodePayload(id, sessionData(index)))
          )
        },
        async expire(ids) {
          const past = new Date(Date.now() - (AGE_SECONDS + 60) * 1000)
          for (const id of ids) await utimes(join(location, `${id}.txt`), past, past)
        },
        async close() {
          rmSync(location, { recursive: true, force: true })
        },
      }
    }
    case 'redis': {
      const client = new Redis(redisSettings())
      const prefix = `satchel-scale:${Date.now()}:${Math.random().toString(36).slice(2)}:`
      const store = new RedisStore(client, AGE_SECONDS, prefix)
      return {
        store,
        async load(ids) {
          for (let start = 0; start < ids.length; start += 1000) {
            const pipeline = client.pipeline()
            ids.slice(start, start + 1000).forEach((id, offset) => {
              const data = sessionData(start + offset)
              const user = `user-${(start + offset) % Math.max(1, ids.length / 5)}`
              ;(data[METADATA_KEY] as any).userId = user
              pipeline.set(store.keyOf(id), encodePayload(id, data), 'EX', AGE_SECONDS)
              pipeline.sadd(store.tagKeyOf(user), id)
            })
            await pipeline.exec()
          }
        },
        async expire(ids) {
          for (let start = 0; start < ids.length; start += 1000) {
            await client.del(...ids.slice(start, start + 1000).map((id) => store.keyOf(id)))
          }
        },
        async close() {
          let cursor = '0'
          do {
            const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
            cursor = next
            if (keys.length) await client.del(...keys)
          } while (cursor !== '0')
          client.disconnect()
        },
      }
    }
    case 'database': {
      const db = await openDatabase('postgres')
      const client = db.connection('postgres')
      const tableName = uniqueTableName()
      await createSessionsTable(client, tableName)
      const store = new DatabaseStore(client, AGE_SECONDS, { tableName, gcProbability: 0 })
      const expiresAt = () => new Date(Date.now() + AGE_SECONDS * 1000)
      return {
        store,
        async load(ids) {
          for (let start = 0; start < ids.length; start += 1000) {
            await client.table(tableName).multiInsert(
              ids.slice(start, start + 1000).map((id, offset) => ({
                id,
                data: encodePayload(id, sessionData(start + offset)),
                user_id: `user-${(start + offset) % Math.max(1, ids.length / 5)}`,
                expires_at: expiresAt(),
              }))
            )
          }
        },
        async expire(ids) {
          for (let start = 0; start < ids.length; start += 1000) {
            await client
              .from(tableName)
              .whereIn('id', ids.slice(start, start + 1000))
              .update({ expires_at: new Date(Date.now() - 60_000) })
          }
        },
        /*
         * What autovacuum does on its own a minute after a bulk load (the
         * planner's statistics, the visibility map) and the checkpoint that
         * follows it; this machine's PostgreSQL runs with autovacuum off.
         */
        async settle() {
          await client.rawQuery(`VACUUM ANALYZE "${tableName}"`)
          await client.rawQuery('CHECKPOINT')
        },
        async close() {
          await dropSessionsTable(client, tableName)
          await closeDatabase(db)
        },
      }
    }
    case 'dynamodb': {
      const dynamo = await startDynamoDB()
      const tableName = 'ScaleSessions'
      await createSessionTable(dynamo.client, tableName, { userIndexName: 'user_index' })
      const store = new DynamoDBStore(dynamo.client, AGE_SECONDS, {
        tableName,
        userIndexName: 'user_index',
      })
      const put = async (ids: string[], expiresAt: number) => {
        const batches: string[][] = []
        for (let start = 0; start < ids.length; start += 25)
          batches.push(ids.slice(start, start + 25))
        const send = async (batch: string[]) =>
          dynamo.client.send(
            new BatchWriteItemCommand({
              RequestItems: {
                [tableName]: batch.map((id, index) => ({
                  PutRequest: {
                    Item: {
                      key: { S: id },
                      value: { S: encodePayload(id, sessionData(index)) },
                      expires_at: { N: String(expiresAt) },
                      user_id: { S: `user-${id.slice(0, 3)}` },
                    },
                  },
                })),
              },
            })
          )
        for (let start = 0; start < batches.length; start += 8) {
          await Promise.all(batches.slice(start, start + 8).map(send))
        }
      }
      return {
        store,
        load: (ids) => put(ids, Date.now() + AGE_SECONDS * 1000),
        expire: (ids) => put(ids, Date.now() - 60_000),
        close: () => dynamo.close(),
      }
    }
  }
}

interface ScaleCell {
  store: Store
  sessions: number
  /** p50: the median of the rounds' p50s; p99: over every sample of every round. */
  readMs: { p50: number; p99: number }
  writeMs: { p50: number; p99: number }
  /** The p50 of each round, in the order of the rounds. */
  readP50ByRound: number[]
  writeP50ByRound: number[]
  /** The median of 5 calls per round. */
  taggedMs: number
  destroyTaggedMs: number
  /** Null when the store has more sessions than PRUNE_LIMIT allows. */
  pruneMs: number | null
  loadSeconds: number
}

/** The latency of `call` on `samples` random sessions, in milliseconds. */
async function latencies(ids: string[], samples: number, call: (id: string) => unknown) {
  const times: number[] = []
  for (let sample = 0; sample < samples; sample++) {
    const id = ids[Math.floor(Math.random() * ids.length)]
    times.push(await timed(() => call(id)))
  }
  return times
}

/** One size of a store under test: its own backend, sessions and measurements. */
interface Sized {
  size: number
  subject: Subject
  live: string[]
  loadSeconds: number
  reads: number[]
  writes: number[]
  readP50ByRound: number[]
  writeP50ByRound: number[]
  tagged: number[]
}

const cells: ScaleCell[] = []
const samplesPerRound = Math.ceil(SAMPLES / rounds)

for (const name of chosenStores) {
  const sized: Sized[] = []
  try {
    for (const size of sizes) {
      const subject = await subjectOf(name)
      const loadStart = performance.now()
      const live = Array.from({ length: size }, () => newSessionId())
      sized.push({
        size,
        subject,
        live,
        loadSeconds: 0,
        reads: [],
        writes: [],
        readP50ByRound: [],
        writeP50ByRound: [],
        tagged: [],
      })
      await subject.load(live)
      await subject.settle?.()
      sized[sized.length - 1].loadSeconds = (performance.now() - loadStart) / 1000
      for (const id of Array.from({ length: 5 }, () => newSessionId())) {
        await subject.store.write(id, sessionData(0))
        await subject.store.tag(id, USER)
      }
      /* Warm up (JIT, connections) before the first measurement. */
      await latencies(live, samplesPerRound, (id) => subject.store.read(id))
      await latencies(live, samplesPerRound, (id) => subject.store.write(id, sessionData(1)))
    }
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? sized : [...sized].reverse()
      for (const entry of order) {
        const { store } = entry.subject
        const reads = await latencies(entry.live, samplesPerRound, (id) => store.read(id))
        const writes = await latencies(entry.live, samplesPerRound, (id) =>
          store.write(id, sessionData(1))
        )
        entry.reads.push(...reads)
        entry.writes.push(...writes)
        entry.readP50ByRound.push(median(reads))
        entry.writeP50ByRound.push(median(writes))
        for (let call = 0; call < 5; call++) {
          entry.tagged.push(await timed(() => store.tagged(USER)))
        }
      }
    }
    for (const entry of sized) {
      const { store } = entry.subject
      const destroyTaggedMs = await timed(async () => {
        for (const session of await store.tagged(USER)) await store.destroy(session.id)
      })
      let pruneMs: number | null = null
      if (entry.size <= (PRUNE_LIMIT[name] ?? Number.POSITIVE_INFINITY)) {
        await entry.subject.expire(entry.live.slice(0, Math.floor(entry.live.length / 2)))
        pruneMs = await timed(() => store.prune())
      }
      const cell: ScaleCell = {
        store: name,
        sessions: entry.size,
        readMs: { p50: median(entry.readP50ByRound), p99: percentile(entry.reads, 99) },
        writeMs: { p50: median(entry.writeP50ByRound), p99: percentile(entry.writes, 99) },
        readP50ByRound: entry.readP50ByRound,
        writeP50ByRound: entry.writeP50ByRound,
        taggedMs: median(entry.tagged),
        destroyTaggedMs,
        pruneMs,
        loadSeconds: entry.loadSeconds,
      }
      cells.push(cell)
      console.log(
        `${name.padEnd(13)} ${String(entry.size).padStart(6)} sessions  read p50 ${cell.readMs.p50.toFixed(3)} p99 ${cell.readMs.p99.toFixed(3)} ms  write p50 ${cell.writeMs.p50.toFixed(3)} p99 ${cell.writeMs.p99.toFixed(3)} ms  tagged ${cell.taggedMs.toFixed(2)} ms  destroyTagged ${destroyTaggedMs.toFixed(2)} ms  prune (half expired) ${pruneMs === null ? `skipped above ${PRUNE_LIMIT[name]} sessions` : `${pruneMs.toFixed(0)} ms`}  (loaded in ${entry.loadSeconds.toFixed(1)} s)`
      )
    }
  } finally {
    for (const entry of sized) await entry.subject.close()
  }
}

/** A real HttpContext over a request without cookies. */
function freshContext(): HttpContext {
  const request = new IncomingMessage(new Socket())
  request.url = '/'
  const response = new ServerResponse(request)
  return new HttpContextFactory()
    .merge({
      request: new RequestFactory().merge({ req: request, res: response }).create(),
      response: new ResponseFactory().merge({ req: request, res: response }).create(),
    })
    .create()
}

/**
 * Heap bytes per session a memory store keeps: `count` requests without a
 * cookie each open a session with one value, through a package's middleware.
 */
async function heapPerSession(variant: 'satchel' | 'official', count: number): Promise<number> {
  const options = { store: 'memory', stores: {}, age: '2h', cookieName: 'adonis-session' }
  const middleware =
    variant === 'satchel'
      ? await new SessionMiddlewareFactory().merge({ config: options as any }).create()
      : await new (await import(`${OFFICIAL_PACKAGE}/factories`)).SessionMiddlewareFactory()
          .merge({ config: options })
          .create()
  const gc = (globalThis as { gc?: () => void }).gc!
  gc()
  const before = process.memoryUsage().heapUsed
  for (let index = 0; index < count; index++) {
    const ctx = freshContext()
    await middleware.handle(ctx, async () => (ctx as any).session.put('visits', index))
  }
  gc()
  return (process.memoryUsage().heapUsed - before) / count
}

const heap: { sessions: number; satchelBytes: number; officialBytes: number }[] = []
if (typeof (globalThis as { gc?: unknown }).gc === 'function' && chosenStores.includes('memory')) {
  for (const size of sizes) {
    const satchelBytes = await heapPerSession('satchel', size)
    const officialBytes = await heapPerSession('official', size)
    heap.push({ sessions: size, satchelBytes, officialBytes })
    console.log(
      `memory heap per session at ${size}: adonis-satchel ${satchelBytes.toFixed(0)} B, @adonisjs/session ${officialBytes.toFixed(0)} B`
    )
  }
}

/** Ratio of a figure at the largest size to the smallest, per store. */
function growth(store: Store, pick: (cell: ScaleCell) => number): number {
  const ofStore = cells.filter((cell) => cell.store === store)
  return pick(ofStore[ofStore.length - 1]) / pick(ofStore[0])
}

const summary = chosenStores.map((store) => ({
  store,
  readP50Growth: growth(store, (cell) => cell.readMs.p50),
  writeP50Growth: growth(store, (cell) => cell.writeMs.p50),
  taggedGrowth: growth(store, (cell) => cell.taggedMs),
}))
for (const row of summary) {
  console.log(
    `${row.store.padEnd(13)} largest/smallest: read p50 ${row.readP50Growth.toFixed(2)}x (target <= 1.2)  write p50 ${row.writeP50Growth.toFixed(2)}x (target <= 1.2)  tagged ${row.taggedGrowth.toFixed(2)}x (target <= 2)`
  )
}

await writeFile(
  new URL('./scale_results.json', import.meta.url),
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      sizes,
      samples: SAMPLES,
      rounds,
      targets: { readWriteP50Growth: 1.2, taggedGrowth: 2, heapPerSession: 'satchel <= official' },
      cells,
      summary,
      memoryHeapPerSession: heap,
    },
    null,
    2
  )}\n`
)
console.log('Results written to bench/scale_results.json')
