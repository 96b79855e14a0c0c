import { test } from '@japa/runner'
import { attachSnapshot, snapshotOf } from '../src/payload.js'

test.group('attachSnapshot', () => {
  test('hand the snapshot back while keys, for…in and JSON of the data stay the same', ({
    assert,
  }) => {
    const raw = '{"message":{"a":1},"purpose":"id"}'
    const data = attachSnapshot({ a: 1, nested: { b: 2 } }, raw)
    assert.equal(snapshotOf(data), raw)
    assert.deepEqual(Object.keys(data), ['a', 'nested'])
    const iterated: string[] = []
    for (const key in data) iterated.push(key)
    assert.deepEqual(iterated, ['a', 'nested'])
    assert.equal(JSON.stringify(data), '{"a":1,"nested":{"b":2}}')
  })

  test('keep the snapshot out of copies made by spread and Object.assign', ({ assert }) => {
    const data = attachSnapshot({ a: 1 }, 'raw')
    assert.deepEqual(Object.getOwnPropertySymbols({ ...data }), [])
    assert.deepEqual(Object.getOwnPropertySymbols(Object.assign({}, data)), [])
    assert.deepEqual(data, { a: 1 })
  })

  test('attach nothing to null and find nothing on data no store read', ({ assert }) => {
    assert.isNull(attachSnapshot(null, 'raw'))
    assert.isUndefined(snapshotOf(null))
    assert.isUndefined(snapshotOf({ a: 1 }))
  })
})
