import { test } from '@japa/runner'
import { setTimeout as sleep } from 'node:timers/promises'
import { generateSessionId } from '../src/session_cookies.js'
import { METADATA_KEY } from '../src/payload.js'
import { snapshotOf } from '../src/payload.js'
import type {
  SessionData,
  SessionChanges,
  SessionStoreContract,
  SessionStoreWithMergeContract,
  SessionStoreWithTaggingContract,
} from '../src/types.js'

/**
 * How to run the store conformance suite on a store.
 */
export interface StoreConformanceOptions<Store extends SessionStoreContract> {
  /** Shown in the group title. */
  name: string
  /** A store whose entries live `ageInSeconds`. Called once per test. */
  createStore(ageInSeconds: number): Store | Promise<Store>
  /** Runs after each test (close connections, drop tables, remove files). */
  cleanup?(store: Store): void | Promise<void>
  /** Run the tagging cases (tag/untag/tagged). */
  tagging?: boolean
  /** Run the atomic merge cases. */
  merge?: boolean
}

/**
 * A session id as the package generates them.
 */
export function newSessionId(): string {
  return generateSessionId()
}

function changes(partial: Partial<SessionChanges>): SessionChanges {
  return { set: {}, unset: [], cleared: false, ...partial }
}

/**
 * The behaviour every session store must have, as Japa test groups: reading,
 * writing, destroying, touching, expiry, isolation of concurrent ids and, when
 * the store offers them, tagging and atomic merges. Custom store authors can
 * run it on their store:
 *
 * @example
 * storeConformanceSuite({ name: 'my store', createStore: (age) => new MyStore(age) })
 */
export function storeConformanceSuite<Store extends SessionStoreContract>(
  options: StoreConformanceOptions<Store>
) {
  let stores: Store[] = []

  /** A store for this test, cleaned up after it. */
  async function storeFor(ageInSeconds: number = 60): Promise<Store> {
    const store = await options.createStore(ageInSeconds)
    stores.push(store)
    return store
  }

  test.group(`${options.name} | store conformance`, (group) => {
    group.each.teardown(async () => {
      for (const store of stores) {
        await options.cleanup?.(store)
      }
      stores = []
    })

    test('return null for a session that was never written', async ({ assert }) => {
      const store = await storeFor()
      assert.isNull(await store.read(newSessionId()))
    })

    test('read back what was written, nested values included', async ({ assert }) => {
      const store = await storeFor()
      const id = newSessionId()
      const data = {
        user: { id: 1, name: 'Zoë 💼', roles: ['admin', 'editor'] },
        count: 0,
        enabled: false,
        empty: [],
        nothing: null,
      }
      await store.write(id, data)
      assert.deepEqual(await store.read(id), data)
    })

    test('replace the whole data on write', async ({ assert }) => {
      const store = await storeFor()
      const id = newSessionId()
      await store.write(id, { a: 1, b: 2 })
      await store.write(id, { c: 3 })
      assert.deepEqual(await store.read(id), { c: 3 })
    })

    test('return null after destroy, and destroy an unknown id quietly', async ({ assert }) => {
      const store = await storeFor()
      const id = newSessionId()
      await store.write(id, { a: 1 })
      await store.destroy(id)
      assert.isNull(await store.read(id))
      await store.destroy(newSessionId())
    })

    test('return null once the session has expired', async ({ assert }) => {
      const store = await storeFor(1)
      const id = newSessionId()
      await store.write(id, { a: 1 })
      await sleep(1300)
      assert.isNull(await store.read(id))
    })

    test('keep a touched session alive past its first expiry', async ({ assert }) => {
      const store = await storeFor(2)
      const id = newSessionId()
      await store.write(id, { a: 1 })
      await sleep(1200)
      await store.touch(id)
      await sleep(1200)
      assert.deepEqual(await store.read(id), { a: 1 })
    })

    test('never revive an expired session with touch', async ({ assert }) => {
      const store = await storeFor(1)
      const id = newSessionId()
      await store.write(id, { a: 1 })
      await sleep(1300)
      await store.touch(id)
      assert.isNull(await store.read(id))
    })

    test('never create a session with touch', async ({ assert }) => {
      const store = await storeFor()
      const id = newSessionId()
      await store.touch(id)
      assert.isNull(await store.read(id))
    })

    test('keep concurrent sessions apart', async ({ assert }) => {
      const store = await storeFor()
      const ids = Array.from({ length: 25 }, () => newSessionId())
      await Promise.all(ids.map((id, index) => store.write(id, { index })))
      const read = await Promise.all(ids.map((id) => store.read(id)))
      assert.deepEqual(
        read,
        ids.map((_, index) => ({ index }))
      )
    })
  })

  if (options.merge) {
    test.group(`${options.name} | store conformance: atomic merge`, (group) => {
      group.each.teardown(async () => {
        for (const store of stores) {
          await options.cleanup?.(store)
        }
        stores = []
      })

      test('merge set and unset keys into the stored data', async ({ assert }) => {
        const store = (await storeFor()) as unknown as SessionStoreWithMergeContract
        const id = newSessionId()
        await store.write(id, { keep: 1, drop: 2, change: 3 })
        await store.merge(id, changes({ set: { change: 4, added: 5 }, unset: ['drop'] }))
        assert.deepEqual(await store.read(id), { keep: 1, change: 4, added: 5 })
      })

      test('start from an empty object when the changes say cleared', async ({ assert }) => {
        const store = (await storeFor()) as unknown as SessionStoreWithMergeContract
        const id = newSessionId()
        await store.write(id, { old: 1 })
        await store.merge(id, changes({ set: { fresh: 2 }, cleared: true }))
        assert.deepEqual(await store.read(id), { fresh: 2 })
      })

      test('never resurrect a session that was destroyed before the merge', async ({ assert }) => {
        const store = (await storeFor()) as unknown as SessionStoreWithMergeContract
        const id = newSessionId()
        await store.write(id, { a: 1 })
        const snapshot = snapshotOf(await store.read(id))
        await store.destroy(id)
        await store.merge(id, changes({ set: { b: 2 } }), snapshot)
        assert.isNull(await store.read(id))
      })

      test('store the whole data of a merge based on what is stored now', async ({ assert }) => {
        const store = (await storeFor()) as unknown as SessionStoreWithMergeContract
        const id = newSessionId()
        await store.write(id, { a: 1, b: 2 })
        const snapshot = snapshotOf(await store.read(id))
        const data = { a: 1, c: 3 }
        await store.merge(id, changes({ set: { c: 3 }, unset: ['b'], data }), snapshot)
        assert.deepEqual(await store.read(id), { a: 1, c: 3 })
      })

      test('apply only the changes when another write came after the read', async ({ assert }) => {
        const store = (await storeFor()) as unknown as SessionStoreWithMergeContract
        const id = newSessionId()
        await store.write(id, { a: 1 })
        const snapshot = snapshotOf(await store.read(id))
        await store.write(id, { a: 1, theirs: 2 })
        await store.merge(id, changes({ set: { ours: 3 }, data: { a: 1, ours: 3 } }), snapshot)
        assert.deepEqual(await store.read(id), { a: 1, theirs: 2, ours: 3 })
      })

      test('keep every change of 20 parallel merges of different keys', async ({ assert }) => {
        const store = (await storeFor()) as unknown as SessionStoreWithMergeContract
        const id = newSessionId()
        await store.write(id, { base: true })
        const snapshot = await store.read(id)
        await Promise.all(
          Array.from({ length: 20 }, (_, index) =>
            store.merge(
              id,
              changes({
                set: { [`key${index}`]: index },
                data: { base: true, [`key${index}`]: index },
              }),
              snapshotOf(snapshot)
            )
          )
        )
        const expected: Record<string, unknown> = { base: true }
        for (let index = 0; index < 20; index++) expected[`key${index}`] = index
        assert.deepEqual(await store.read(id), expected)
      })
    })
  }

  if (options.tagging) {
    test.group(`${options.name} | store conformance: tagging`, (group) => {
      group.each.teardown(async () => {
        for (const store of stores) {
          await options.cleanup?.(store)
        }
        stores = []
      })

      test('list the sessions tagged with a user, with their data', async ({ assert }) => {
        const store = (await storeFor()) as unknown as SessionStoreWithTaggingContract
        const user = `user-${newSessionId()}`
        const [first, second, other] = [newSessionId(), newSessionId(), newSessionId()]
        await store.write(first, { n: 1 })
        await store.write(second, { n: 2 })
        await store.write(other, { n: 3 })
        await store.tag(first, user)
        await store.tag(second, user)
        const sessions = await store.tagged(user)
        assert.sameMembers(
          sessions.map((session) => session.id),
          [first, second]
        )
        assert.equal(withoutMetadata(sessions.find((session) => session.id === first)!.data)!.n, 1)
      })

      test('return no sessions for a user without any', async ({ assert }) => {
        const store = (await storeFor()) as unknown as SessionStoreWithTaggingContract
        assert.deepEqual(await store.tagged(`nobody-${newSessionId()}`), [])
      })

      test('leave destroyed sessions out of the list', async ({ assert }) => {
        const store = (await storeFor()) as unknown as SessionStoreWithTaggingContract
        const user = `user-${newSessionId()}`
        const [kept, ended] = [newSessionId(), newSessionId()]
        for (const id of [kept, ended]) {
          await store.write(id, { id })
          await store.tag(id, user)
        }
        await store.destroy(ended)
        assert.deepEqual(
          (await store.tagged(user)).map((session) => session.id),
          [kept]
        )
      })

      test('leave expired sessions out of the list', async ({ assert }) => {
        const store = (await storeFor(1)) as unknown as SessionStoreWithTaggingContract
        const user = `user-${newSessionId()}`
        const id = newSessionId()
        await store.write(id, { a: 1 })
        await store.tag(id, user)
        await sleep(1300)
        assert.deepEqual(await store.tagged(user), [])
      })

      test('accept numeric user ids as strings', async ({ assert }) => {
        const store = (await storeFor()) as unknown as SessionStoreWithTaggingContract
        const user = Math.floor(Math.random() * 1e9)
        const id = newSessionId()
        await store.write(id, { a: 1 })
        await store.tag(id, user)
        assert.deepEqual(
          (await store.tagged(String(user))).map((session) => session.id),
          [id]
        )
      })

      test('untag a session so it is no longer listed', async ({ assert }) => {
        const store = (await storeFor()) as unknown as SessionStoreWithTaggingContract
        if (!store.untag) {
          assert.fail('a tagging store must implement untag()')
          return
        }
        const user = `user-${newSessionId()}`
        const id = newSessionId()
        await store.write(id, { a: 1 })
        await store.tag(id, user)
        await store.untag(id)
        assert.deepEqual(await store.tagged(user), [])
        assert.deepEqual(withoutMetadata(await store.read(id)), { a: 1 })
      })
    })
  }
}

/**
 * Stored data without the session metadata some stores keep next to it.
 */
function withoutMetadata(data: SessionData | null): SessionData | null {
  if (!data) {
    return data
  }
  const rest = { ...data }
  delete rest[METADATA_KEY]
  return rest
}
