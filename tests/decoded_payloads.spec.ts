import { test } from '@japa/runner'
import { DecodedPayloads } from '../src/decoded_payloads.js'
import { encodePayload } from '../src/payload.js'

const ID = 'abcdefghijklmnopqrstuvwx'

test.group('DecodedPayloads', () => {
  test('parse the first read, keep the decoded data from the second on, and hand out copies', ({
    assert,
  }) => {
    const payloads = new DecodedPayloads()
    const payload = encodePayload(ID, { cart: { items: [1] } })
    const reads = [1, 2, 3, 4].map(() => payloads.read(ID, payload))
    for (const data of reads) assert.deepEqual(data, { cart: { items: [1] } })
    assert.equal(new Set(reads).size, 4)
    assert.equal(new Set(reads.map((data) => data!.cart)).size, 4)
  })

  test('hold only the raw payload after one read, and its decoded data after a second', ({
    assert,
  }) => {
    const payloads = new DecodedPayloads()
    const payload = encodePayload(ID, { text: 'x'.repeat(1000) })
    payloads.read(ID, payload)
    const afterOne = payloads.bytes
    payloads.read(ID, payload)
    assert.isAbove(afterOne, 2 * payload.length)
    assert.isAbove(payloads.bytes, afterOne + 3 * payload.length)
  })

  test('read another payload of the same session as new: a change is never missed', ({
    assert,
  }) => {
    const payloads = new DecodedPayloads()
    for (const value of [1, 1, 1, 2, 3, 3, 1]) {
      assert.deepEqual(payloads.read(ID, encodePayload(ID, { value })), { value })
    }
  })

  test('parse on every read a payload that carries its own expiryDate', ({ assert }) => {
    const payloads = new DecodedPayloads()
    const payload = JSON.stringify({
      message: { a: 1 },
      purpose: ID,
      expiryDate: new Date(Date.now() + 60_000),
    })
    for (let read = 0; read < 3; read++) {
      assert.deepEqual(payloads.read(ID, payload), { a: 1 })
    }
    assert.isBelow(payloads.bytes, 3 * payload.length)
  })

  test('keep nothing for a payload that does not decode', ({ assert }) => {
    const payloads = new DecodedPayloads()
    payloads.read(ID, encodePayload(ID, { a: 1 }))
    for (let read = 0; read < 3; read++) {
      assert.isNull(payloads.read(ID, 'not json'))
    }
    assert.equal(payloads.bytes, 0)
  })

  test('stay within its byte budget over many sessions read twice', ({ assert }) => {
    const payloads = new DecodedPayloads(100_000)
    for (let index = 0; index < 500; index++) {
      const id = `${ID}${index}`
      const payload = encodePayload(id, { text: 'x'.repeat(1000) })
      payloads.read(id, payload)
      payloads.read(id, payload)
      assert.isAtMost(payloads.bytes, 100_000)
    }
    assert.isAbove(payloads.bytes, 50_000)
  })

  test('forget one session or all of them', ({ assert }) => {
    const payloads = new DecodedPayloads()
    payloads.read(ID, encodePayload(ID, { a: 1 }))
    payloads.forget(ID)
    assert.equal(payloads.bytes, 0)
    payloads.read(ID, encodePayload(ID, { a: 1 }))
    payloads.clear()
    assert.equal(payloads.bytes, 0)
  })
})
