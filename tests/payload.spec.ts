import { test } from '@japa/runner'
import { MessageBuilder } from '@adonisjs/core/helpers'
import {
  applyChanges,
  copyOfJsonValue,
  decodePayload,
  encodePayload,
  METADATA_KEY,
  parseJson,
  unstorableReason,
} from '../src/payload.js'

test.group('payload | encoding', () => {
  test('encode the MessageBuilder format that @adonisjs/session stores', ({ assert }) => {
    const payload = encodePayload('session-id-123456789', { user: { id: 1 } })
    assert.equal(payload, '{"message":{"user":{"id":1}},"purpose":"session-id-123456789"}')
    assert.deepEqual(new MessageBuilder().verify(payload, 'session-id-123456789'), {
      user: { id: 1 },
    })
  })

  test('keep the metadata beside message, where @adonisjs/session does not read it', ({
    assert,
  }) => {
    const id = 'session-id-123456789'
    const metadata = { createdAt: 1, lastSeenAt: 2 }
    const payload = encodePayload(id, { user: { id: 1 }, [METADATA_KEY]: metadata })
    assert.equal(
      payload,
      '{"message":{"user":{"id":1}},"purpose":"session-id-123456789","meta":{"createdAt":1,"lastSeenAt":2}}'
    )
    assert.deepEqual(new MessageBuilder().verify(payload, id), { user: { id: 1 } })
    assert.deepEqual(decodePayload(id, payload), { user: { id: 1 }, [METADATA_KEY]: metadata })
  })

  test('read the metadata of the earlier layout, kept inside message', ({ assert }) => {
    const id = 'session-id-123456789'
    const metadata = { createdAt: 1, lastSeenAt: 2 }
    const payload = JSON.stringify({ message: { a: 1, [METADATA_KEY]: metadata }, purpose: id })
    assert.deepEqual(decodePayload(id, payload), { a: 1, [METADATA_KEY]: metadata })
    assert.deepEqual(JSON.parse(encodePayload(id, decodePayload(id, payload)!)), {
      message: { a: 1 },
      purpose: id,
      meta: metadata,
    })
  })

  test('decode payloads built by the AdonisJS MessageBuilder', ({ assert }) => {
    const payload = new MessageBuilder().build({ cart: [1, 2] }, undefined, 'abcdefghijklmnop')
    assert.deepEqual(decodePayload('abcdefghijklmnop', payload), { cart: [1, 2] })
  })

  test('honour an expiry date inside the payload', ({ assert }) => {
    const live = new MessageBuilder().build({ a: 1 }, '1h', 'abcdefghijklmnop')
    const expired = JSON.stringify({
      message: { a: 1 },
      purpose: 'abcdefghijklmnop',
      expiryDate: new Date(Date.now() - 1000),
    })
    assert.deepEqual(decodePayload('abcdefghijklmnop', live), { a: 1 })
    assert.isNull(decodePayload('abcdefghijklmnop', expired))
  })

  test('read a payload of another session, corrupt JSON or a non-object message as null', ({
    assert,
  }) => {
    const payload = encodePayload('first-session-id-00', { a: 1 })
    assert.isNull(decodePayload('other-session-id-00', payload))
    assert.isNull(decodePayload('first-session-id-00', payload.slice(0, -3)))
    assert.isNull(
      decodePayload('first-session-id-00', '{"message":[1],"purpose":"first-session-id-00"}')
    )
    assert.isNull(
      decodePayload('first-session-id-00', '{"message":"x","purpose":"first-session-id-00"}')
    )
    assert.isNull(decodePayload('first-session-id-00', undefined))
    assert.isNull(decodePayload('first-session-id-00', 'null'))
  })

  test('never let __proto__ or constructor keys reach Object.prototype', ({ assert }) => {
    const payload =
      '{"message":{"__proto__":{"polluted":true},"safe":{"constructor":{"prototype":{"polluted":true}}}},"purpose":"abcdefghijklmnop"}'
    const data = decodePayload('abcdefghijklmnop', payload)!
    assert.isUndefined(({} as any).polluted)
    assert.deepEqual(data, { safe: {} })
    assert.isFalse(Object.hasOwn(data, '__proto__'))
  })

  test('keep __proto__ and constructor keys that hold text or arrays as plain data', ({
    assert,
  }) => {
    const payload =
      '{"message":{"errors":{"__proto__":["too short"],"constructor":"x"}},"purpose":"abcdefghijklmnop"}'
    const errors = decodePayload('abcdefghijklmnop', payload)!.errors as Record<string, unknown>
    assert.deepEqual(Object.getOwnPropertyDescriptor(errors, '__proto__')?.value, ['too short'])
    assert.strictEqual(Object.getPrototypeOf(errors), Object.prototype)
    assert.equal(errors.constructor, 'x')
  })

  test('drop __proto__ keys written with unicode escapes too', ({ assert }) => {
    const payload =
      '{"message":{"\\u005f_proto__":{"polluted":true},"\\u0063onstructor":{"prototype":1},"kept":"\\u00e9"},"purpose":"abcdefghijklmnop"}'
    const data = decodePayload('abcdefghijklmnop', payload)!
    assert.deepEqual(data, { kept: 'é' })
    assert.isFalse(Object.hasOwn(data, '__proto__'))
    const merged = applyChanges(data, { set: { other: 1 }, unset: [], cleared: false })
    assert.strictEqual(Object.getPrototypeOf(merged), Object.prototype)
  })

  test('parse JSON without throwing', ({ assert }) => {
    assert.isNull(parseJson('{oops'))
    assert.deepEqual(parseJson('{"a":[1]}'), { a: [1] })
  })
})

test.group('payload | applyChanges', () => {
  test('set and unset top-level keys on a copy of the current data', ({ assert }) => {
    const current = { keep: 1, drop: 2, change: 3 }
    const next = applyChanges(current, {
      set: { change: 4, added: 5 },
      unset: ['drop'],
      cleared: false,
    })
    assert.deepEqual(next, { keep: 1, change: 4, added: 5 })
    assert.deepEqual(current, { keep: 1, drop: 2, change: 3 })
  })

  test('start from an empty object when cleared or when nothing is stored', ({ assert }) => {
    assert.deepEqual(applyChanges({ old: 1 }, { set: { a: 1 }, unset: [], cleared: true }), {
      a: 1,
    })
    assert.deepEqual(applyChanges(null, { set: { a: 1 }, unset: ['b'], cleared: false }), { a: 1 })
  })

  test('replay operations by path on a copy, keeping what others stored', ({ assert }) => {
    const current = { cart: { k1: 1 }, views: 3, log: ['a'], redirect: { intendedUrl: '/x' } }
    const next = applyChanges(current, {
      set: {},
      unset: [],
      cleared: false,
      operations: [
        { type: 'set', path: ['cart', 'k2'], value: 2 },
        { type: 'increment', path: ['views'], by: 2 },
        { type: 'increment', path: ['stats', 'hits'], by: -1 },
        { type: 'push', path: ['log'], items: ['b', 'c'] },
        { type: 'push', path: ['new'], items: ['z'] },
        { type: 'unset', path: ['redirect', 'intendedUrl'] },
      ],
    })
    assert.deepEqual(next, {
      cart: { k1: 1, k2: 2 },
      views: 5,
      log: ['a', 'b', 'c'],
      stats: { hits: -1 },
      new: ['z'],
    })
    assert.deepEqual(current, {
      cart: { k1: 1 },
      views: 3,
      log: ['a'],
      redirect: { intendedUrl: '/x' },
    })
  })

  test('count a value that is not a number as 0 and replace one that is not an array', ({
    assert,
  }) => {
    const next = applyChanges(
      { views: 'many', log: { a: 1 } },
      {
        set: {},
        unset: [],
        cleared: false,
        operations: [
          { type: 'increment', path: ['views'], by: 1 },
          { type: 'push', path: ['log'], items: [1] },
        ],
      }
    )
    assert.deepEqual(next, { views: 1, log: [1] })
  })

  test('ignore operations whose path reaches a prototype', ({ assert }) => {
    const next = applyChanges(
      {},
      {
        set: {},
        unset: [],
        cleared: false,
        operations: [
          { type: 'set', path: ['__proto__', 'polluted'], value: 1 },
          { type: 'set', path: ['a', 'constructor', 'prototype', 'polluted'], value: 1 },
          { type: 'set', path: [], value: 1 },
        ],
      }
    )
    assert.deepEqual(next, {})
    assert.isUndefined(({} as any).polluted)
  })
})

test.group('payload | unstorableReason', () => {
  test('accept JSON values, Dates and objects with toJSON', ({ assert }) => {
    for (const value of [
      's',
      1,
      true,
      null,
      undefined,
      [1, { a: 'b' }],
      new Date(),
      { toJSON: () => 1 },
    ]) {
      assert.isNull(unstorableReason(value))
    }
  })

  test('explain why BigInt, functions, symbols and cycles cannot be stored', ({ assert }) => {
    const cycle: Record<string, unknown> = {}
    cycle.self = cycle
    assert.match(unstorableReason(10n)!, /BigInt/)
    assert.match(unstorableReason({ nested: [() => 1] })!, /functions/)
    assert.match(unstorableReason(Symbol('s'))!, /symbols/)
    assert.match(unstorableReason(cycle)!, /circular reference/)
  })

  test('accept the same object twice when it is not a cycle', ({ assert }) => {
    const shared = { a: 1 }
    assert.isNull(unstorableReason({ first: shared, second: shared }))
  })
})

test.group('payload | copyOfJsonValue', () => {
  test('copy parsed JSON deeply: equal values, no shared objects or arrays', ({ assert }) => {
    const parsed = JSON.parse(
      '{"a":1,"b":"text","c":null,"d":true,"list":[1,{"x":[2,3]}],"nested":{"deep":{"n":-0.5}}}'
    )
    const copy = copyOfJsonValue(parsed)
    assert.deepEqual(copy, parsed)
    assert.notStrictEqual(copy.list, parsed.list)
    assert.notStrictEqual(copy.list[1], parsed.list[1])
    assert.notStrictEqual(copy.nested.deep, parsed.nested.deep)
    assert.isTrue(Array.isArray(copy.list))
    assert.equal(JSON.stringify(copy), JSON.stringify(parsed))
  })

  test('keep a "__proto__" key as data, never as the prototype of the copy', ({ assert }) => {
    const parsed = JSON.parse('{"__proto__":{"polluted":true},"a":1}')
    const copy = copyOfJsonValue(parsed)
    assert.deepEqual(Object.keys(copy), ['__proto__', 'a'])
    assert.strictEqual(Object.getPrototypeOf(copy), Object.prototype)
    assert.isUndefined((copy as any).polluted)
    assert.isUndefined(({} as any).polluted)
  })

  test('return primitives as they are', ({ assert }) => {
    for (const value of [null, 0, 'text', false, 1.5]) {
      assert.strictEqual(copyOfJsonValue(value), value)
    }
  })
})
