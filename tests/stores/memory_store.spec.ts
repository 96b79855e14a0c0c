import { test } from '@japa/runner'
import { setTimeout as sleep } from 'node:timers/promises'
import { newSessionId, storeConformanceSuite } from '../../factories/store_conformance.js'
import { MemoryStore } from '../../src/stores/memory.js'

storeConformanceSuite({
  name: 'MemoryStore',
  createStore: (age) => new MemoryStore(age),
  tagging: true,
  merge: true,
})

storeConformanceSuite({
  name: 'MemoryStore without a decoded-data cache',
  createStore: (age) => new MemoryStore(age, { cacheBytes: 0 }),
  tagging: true,
  merge: true,
})

test.group('MemoryStore', () => {
  test('cache nothing of sessions that were only written', ({ assert }) => {
    const store = new MemoryStore(60)
    for (let index = 0; index < 200; index++) {
      store.write(newSessionId(), { input: 'x'.repeat(10_000) })
    }
    assert.equal(store.cachedBytes, 0)
  })

  test('keep the decoded copies of sessions read again within cacheBytes', ({ assert }) => {
    const store = new MemoryStore(60, { cacheBytes: 200_000 })
    const ids = Array.from({ length: 100 }, () => newSessionId())
    for (const [index, id] of ids.entries()) {
      store.write(id, { index, text: 'x'.repeat(5000) })
      store.read(id)
      store.read(id)
      assert.isAtMost(store.cachedBytes, 200_000)
    }
    assert.isAbove(store.cachedBytes, 100_000)
    for (const [index, id] of ids.entries()) {
      assert.equal(store.read(id)!.index, index)
    }
  })

  test('leave the store empty once 10k created sessions have expired', async ({ assert }) => {
    const store = new MemoryStore(1)
    for (let index = 0; index < 10_000; index++) {
      store.write(newSessionId(), { index })
    }
    assert.equal(store.size, 10_000)
    await sleep(1100)
    assert.equal(store.prune(), 10_000)
    assert.equal(store.size, 0)
  })

  test('sweep expired sessions while new ones are written, without a prune call', async ({
    assert,
  }) => {
    const store = new MemoryStore(1)
    for (let index = 0; index < 10_000; index++) {
      store.write(newSessionId(), { index })
    }
    await sleep(1100)
    store.write(newSessionId(), { late: true })
    assert.equal(store.size, 1)
  })

  test('keep the stored data apart from the objects the caller holds', ({ assert }) => {
    const store = new MemoryStore(60)
    const id = newSessionId()
    const data = { cart: [1] }
    store.write(id, data)
    data.cart.push(2)
    store.read(id)!.cart = 'changed'
    assert.deepEqual(store.read(id), { cart: [1] })
  })

  test('hand out a fresh copy on every read, also once reads are copied from decoded data', ({
    assert,
  }) => {
    const store = new MemoryStore(60)
    const id = newSessionId()
    store.write(id, { cart: { items: [1] } })
    for (let read = 0; read < 4; read++) {
      const data = store.read(id)!
      assert.deepEqual(data, { cart: { items: [1] } }, `read ${read + 1}`)
      ;(data.cart as { items: number[] }).items.push(read)
      data.added = read
    }
    store.write(id, { cart: { items: [2] } })
    assert.deepEqual(store.read(id), { cart: { items: [2] } })
    assert.deepEqual(store.read(id), { cart: { items: [2] } })
    assert.deepEqual(store.read(id), { cart: { items: [2] } })
  })

  test('forget the user link of a destroyed session', ({ assert }) => {
    const store = new MemoryStore(60)
    const id = newSessionId()
    store.write(id, { a: 1 })
    store.tag(id, 7)
    store.destroy(id)
    store.write(id, { a: 2 })
    assert.deepEqual(store.tagged(7), [])
  })
})
