import { test } from '@japa/runner'
import type { Router } from '@adonisjs/core/http'
import {
  assertAvailable,
  bootSecurityApp,
  sessionIdOf,
  skipUnlessAvailable,
  storeCases,
  type SecurityApp,
  type StoreAvailability,
  type StoreName,
} from './security/helpers.js'
import { engineSkipReason, type SqlEngine } from '../tests_helpers/databases.js'

/**
 * A store a case runs on; the database store once per SQL engine.
 */
interface StoreCase {
  name: StoreName
  label: string
  engine?: SqlEngine
  availability: StoreAvailability
}

const ENGINE_LABELS: Record<SqlEngine, string> = {
  sqlite: 'SQLite',
  postgres: 'PostgreSQL',
  mysql: 'MariaDB',
}

async function serverStoreCases(): Promise<StoreCase[]> {
  const cases: StoreCase[] = []
  for (const { name, availability } of await storeCases([
    'memory',
    'file',
    'redis',
    'database',
    'dynamodb',
  ])) {
    if (name !== 'database') {
      cases.push({ name, label: name, availability })
      continue
    }
    for (const engine of ['sqlite', 'postgres', 'mysql'] as const) {
      const reason = availability.available ? await engineSkipReason(engine) : availability.reason
      cases.push({
        name,
        engine,
        label: `database (${ENGINE_LABELS[engine]})`,
        availability: reason ? { available: false, reason } : availability,
      })
    }
  }
  return cases
}

const SERVER_STORES = await serverStoreCases()

/**
 * How many requests of one session run at once in each case.
 */
const PARALLEL = 20

const INDEXES = Array.from({ length: PARALLEL }, (_, index) => index)

/**
 * Holds each handler until all `PARALLEL` requests have loaded the session, so
 * every one of them changes the same stored state (without it, requests of a
 * synchronous store can run one after the other and prove nothing).
 */
let barrier = { arrived: 0, open: () => {}, opened: Promise.resolve() }

function resetBarrier() {
  let open = () => {}
  const opened = new Promise<void>((resolve) => (open = resolve))
  barrier = { arrived: 0, open, opened }
}

async function allLoaded() {
  if (++barrier.arrived === PARALLEL) barrier.open()
  await barrier.opened
}

/**
 * Routes that each change the session in one way, `:index` telling the
 * requests apart.
 */
function parallelRoutes(router: Router) {
  router.post('/put/:index', async ({ session, params }) => {
    await allLoaded()
    session.put(`cart.k${params.index}`, Number(params.index))
  })
  router.post('/increment', async ({ session }) => {
    await allLoaded()
    session.increment('views')
  })
  router.post('/decrement', async ({ session }) => {
    await allLoaded()
    session.decrement('credits', 2)
  })
  router.post('/push/:index', async ({ session, params }) => {
    await allLoaded()
    session.push('log', Number(params.index))
  })
  router.post('/same/:index', async ({ session, params }) => {
    await allLoaded()
    session.put('cart.same', Number(params.index))
  })
  router.post('/mixed/:index', async ({ session, params }) => {
    await allLoaded()
    const index = Number(params.index)
    session.put(`cart.k${index}`, index)
    session.increment('views')
    session.push('log', index)
    session.forget(`drop.k${index}`)
  })
}

/**
 * A session started with `values`, then `PARALLEL` requests sent at once to
 * `pathOf(index)`; returns the values the session holds afterwards, as read
 * over HTTP and as stored in the engine (metadata aside).
 */
async function runInParallel(
  app: SecurityApp,
  values: Record<string, unknown>,
  pathOf: (index: number) => string
) {
  const client = app.client()
  await client.post('/put', values)
  const id = sessionIdOf(client)!
  resetBarrier()
  const responses = await Promise.all(INDEXES.map((index) => client.post(pathOf(index))))
  for (const response of responses) {
    if (response.status >= 300) throw new Error(`HTTP ${response.status}: ${response.text}`)
  }
  const read = (await client.get('/read')).json().values
  const raw = await app.backend.raw(id)
  const parsed = raw === null ? null : JSON.parse(raw)
  /* The memory backend hands back the data itself, the others the stored envelope. */
  return { read, stored: parsed && 'purpose' in parsed ? parsed.message : parsed }
}

test.group('parallel requests of one session', () => {
  for (const { name, label, engine, availability } of SERVER_STORES) {
    const boot = async (cleanup: (handler: () => Promise<void>) => void) => {
      assertAvailable(availability)
      const app = await bootSecurityApp({ store: name, engine, routes: parallelRoutes })
      cleanup(() => app.close())
      return app
    }
    const skip = skipUnlessAvailable(availability)

    test(`keep every key written under one key by ${PARALLEL} requests on the ${label} store`, async ({
      assert,
      cleanup,
    }) => {
      const app = await boot(cleanup)
      const { read, stored } = await runInParallel(app, { cart: { k0: 'old' } }, (index) => {
        return `/put/${index}`
      })
      const expected = Object.fromEntries(INDEXES.map((index) => [`k${index}`, index]))
      assert.deepEqual(read.cart, expected)
      assert.deepEqual(stored.cart, expected)
    })
      .skip(skip, availability.reason)
      .timeout(30_000)

    test(`add up ${PARALLEL} parallel increments on the ${label} store`, async ({
      assert,
      cleanup,
    }) => {
      const app = await boot(cleanup)
      const { read, stored } = await runInParallel(app, { views: 5 }, () => '/increment')
      assert.equal(read.views, 5 + PARALLEL)
      assert.equal(stored.views, 5 + PARALLEL)
    })
      .skip(skip, availability.reason)
      .timeout(30_000)

    test(`add up ${PARALLEL} parallel decrements on the ${label} store`, async ({
      assert,
      cleanup,
    }) => {
      const app = await boot(cleanup)
      const { read, stored } = await runInParallel(app, { start: true }, () => '/decrement')
      assert.equal(read.credits, -2 * PARALLEL)
      assert.equal(stored.credits, -2 * PARALLEL)
    })
      .skip(skip, availability.reason)
      .timeout(30_000)

    test(`keep the items of ${PARALLEL} parallel pushes on the ${label} store`, async ({
      assert,
      cleanup,
    }) => {
      const app = await boot(cleanup)
      const { read, stored } = await runInParallel(app, { start: true }, (index) => {
        return `/push/${index}`
      })
      assert.sameMembers(read.log, INDEXES)
      assert.sameMembers(stored.log, INDEXES)
    })
      .skip(skip, availability.reason)
      .timeout(30_000)

    test(`keep puts, increments, pushes and forgets of ${PARALLEL} mixed requests on the ${label} store`, async ({
      assert,
      cleanup,
    }) => {
      const app = await boot(cleanup)
      const drop = Object.fromEntries(INDEXES.map((index) => [`k${index}`, true]))
      const { read, stored } = await runInParallel(app, { drop, keep: 1 }, (index) => {
        return `/mixed/${index}`
      })
      for (const values of [read, stored]) {
        assert.deepEqual(
          values.cart,
          Object.fromEntries(INDEXES.map((index) => [`k${index}`, index]))
        )
        assert.equal(values.views, PARALLEL)
        assert.sameMembers(values.log, INDEXES)
        assert.notProperty(values, 'drop')
        assert.equal(values.keep, 1)
      }
    })
      .skip(skip, availability.reason)
      .timeout(30_000)

    test(`let the last writer of one path win on the ${label} store`, async ({
      assert,
      cleanup,
    }) => {
      const app = await boot(cleanup)
      const { read, stored } = await runInParallel(app, { cart: { other: 1 } }, (index) => {
        return `/same/${index}`
      })
      assert.include(INDEXES, read.cart.same)
      assert.deepEqual(stored.cart, read.cart)
      assert.equal(read.cart.other, 1)
    })
      .skip(skip, availability.reason)
      .timeout(30_000)
  }
})
