import { test } from '@japa/runner'
import { omitPaths, pickPaths, ReadOnlyValuesStore, ValuesStore } from '../src/values_store.js'

test.group('ReadOnlyValuesStore', () => {
  test('read nested values by dot path or by array path', ({ assert }) => {
    const store = new ReadOnlyValuesStore({ 'user': { profile: { name: 'Ada' } }, 'a.b': 1 })
    assert.equal(store.get('user.profile.name'), 'Ada')
    assert.equal(store.get(['user', 'profile', 'name']), 'Ada')
    assert.equal(store.get(['a.b']), 1)
    assert.isUndefined(store.get('user.missing.deeper'))
  })

  test('apply the default only to null and undefined values', ({ assert }) => {
    const store = new ReadOnlyValuesStore({ zero: 0, no: false, empty: '', nothing: null })
    assert.strictEqual(store.get('zero', 5), 0)
    assert.strictEqual(store.get('no', true), false)
    assert.strictEqual(store.get('empty', 'x'), '')
    assert.equal(store.get('nothing', 'fallback'), 'fallback')
    assert.equal(store.get('missing', 'fallback'), 'fallback')
  })

  test('treat falsy values and empty arrays as missing in has', ({ assert }) => {
    const store = new ReadOnlyValuesStore({ zero: 0, no: false, list: [], items: [1], name: 'x' })
    assert.isFalse(store.has('zero'))
    assert.isFalse(store.has('no'))
    assert.isFalse(store.has('list'))
    assert.isTrue(store.has('list', false))
    assert.isTrue(store.has('items'))
    assert.isTrue(store.has('name'))
  })

  test('report emptiness and serialize to JSON', ({ assert }) => {
    assert.isTrue(new ReadOnlyValuesStore(null).isEmpty)
    const store = new ReadOnlyValuesStore({ a: 1 })
    assert.isFalse(store.isEmpty)
    assert.equal(store.toString(), '{"a":1}')
    assert.equal(JSON.stringify(store), '{"a":1}')
    assert.deepEqual(store.toObject(), { a: 1 })
  })

  test('never read through the prototype chain', ({ assert }) => {
    const store = new ReadOnlyValuesStore({})
    assert.isUndefined(store.get('toString'))
    assert.isUndefined(store.get('__proto__.polluted'))
    assert.isUndefined(store.get('constructor.prototype'))
  })

  test('read own keys named like prototype members (form fields)', ({ assert }) => {
    const errors = JSON.parse('{"__proto__":["a"],"constructor":["b"],"toString":["c"]}')
    const store = new ReadOnlyValuesStore({ errors })
    assert.deepEqual(store.get(['errors', '__proto__']), ['a'])
    assert.deepEqual(store.get('errors.constructor'), ['b'])
    assert.isTrue(store.has('errors.toString'))
  })
})

test.group('ValuesStore', () => {
  test('set nested values by dot path, creating objects on the way', ({ assert }) => {
    const store = new ValuesStore({})
    store.set('cart.items.count', 2)
    store.set('cart.owner', 'ada')
    assert.deepEqual(store.all(), { cart: { items: { count: 2 }, owner: 'ada' } })
    assert.isTrue(store.hasBeenModified)
  })

  test('replace a scalar that stands in the way of a nested set', ({ assert }) => {
    const store = new ValuesStore({ cart: 'old' })
    store.set('cart.count', 1)
    assert.deepEqual(store.all(), { cart: { count: 1 } })
  })

  test('start unmodified and with no changed keys', ({ assert }) => {
    const store = new ValuesStore({ a: 1 })
    store.get('a')
    store.has('a')
    assert.isFalse(store.hasBeenModified)
    assert.deepEqual([...store.changedKeys], [])
    assert.isFalse(store.wasCleared)
  })

  test('track the top-level key of every change', ({ assert }) => {
    const store = new ValuesStore({ user: { name: 'a' }, drop: 1, keep: 2 })
    store.set('user.name', 'b')
    store.unset('drop')
    store.pull('missing')
    assert.sameMembers([...store.changedKeys], ['user', 'drop', 'missing'])
  })

  test('unset a nested value and keep its siblings', ({ assert }) => {
    const store = new ValuesStore({ user: { name: 'a', age: 3 } })
    store.unset('user.age')
    assert.deepEqual(store.all(), { user: { name: 'a' } })
    assert.deepEqual([...store.changedKeys], ['user'])
  })

  test('remove the key when set to undefined', ({ assert }) => {
    const store = new ValuesStore({ a: 1 })
    store.set('a', undefined)
    assert.deepEqual(store.all(), {})
    assert.deepEqual([...store.changedKeys], ['a'])
  })

  test('pull returns the value and removes it', ({ assert }) => {
    const store = new ValuesStore({ token: 'abc' })
    assert.equal(store.pull('token'), 'abc')
    assert.equal(store.pull('token', 'none'), 'none')
    assert.deepEqual(store.all(), {})
  })

  test('increment and decrement numbers, counting from 0 when missing', ({ assert }) => {
    const store = new ValuesStore({ visits: 3 })
    store.increment('visits')
    store.increment('visits', 5)
    store.decrement('credits', 2)
    store.increment('nested.count')
    assert.deepEqual(store.all(), { visits: 9, credits: -2, nested: { count: 1 } })
  })

  test('refuse to increment a value that is not a number, naming the key', ({ assert }) => {
    const store = new ValuesStore({ user: { name: 'ada' } })
    assert.throws(
      () => store.increment('user.name'),
      'Cannot increment or decrement the session key "user.name": it holds a string, not a number'
    )
    assert.throws(() => store.decrement('user'), /"user": it holds a object/)
    assert.deepEqual(store.all(), { user: { name: 'ada' } })
  })

  test('clear forgets every value and the changes before it', ({ assert }) => {
    const store = new ValuesStore({ a: 1, b: 2 })
    store.set('a', 5)
    store.clear()
    store.set('c', 3)
    assert.deepEqual(store.all(), { c: 3 })
    assert.isTrue(store.wasCleared)
    assert.deepEqual([...store.changedKeys], ['c'])
  })

  test('merge objects key by key and replace arrays and other values', ({ assert }) => {
    const store = new ValuesStore({ user: { id: 1, tags: ['a', 'b'] }, count: 1 })
    store.merge({ user: { profile: { age: 32 }, tags: ['c'] }, count: { total: 2 } })
    assert.deepEqual(store.all(), {
      user: { id: 1, tags: ['c'], profile: { age: 32 } },
      count: { total: 2 },
    })
  })

  test('merge copies of the given objects and skip undefined values', ({ assert }) => {
    const store = new ValuesStore({ keep: 1 })
    const given = { user: { id: 1 }, keep: undefined }
    store.merge(given as Record<string, any>)
    store.merge({ user: { name: 'ada' } })
    assert.deepEqual(given, { user: { id: 1 }, keep: undefined })
    assert.deepEqual(store.all(), { keep: 1, user: { id: 1, name: 'ada' } })
  })

  test('merge never reaches a prototype through __proto__, constructor or prototype keys', ({
    assert,
  }) => {
    const store = new ValuesStore({ user: {} })
    const hostile = JSON.parse(
      '{"__proto__":{"polluted":1},"user":{"__proto__":{"polluted":2},"constructor":{"prototype":{"polluted":3}},"id":1},"list":[{"__proto__":{"polluted":4}}]}'
    )
    store.merge(hostile)
    assert.isUndefined(({} as any).polluted)
    assert.deepEqual(store.all(), { user: { id: 1 }, list: [{}] })
    assert.deepEqual(Object.getPrototypeOf(store.get('user')), Object.prototype)
  })

  test('merge keys named like prototype members as own data when they hold no object', ({
    assert,
  }) => {
    const store = new ValuesStore({})
    store.merge({ errors: JSON.parse('{"__proto__":["bad"],"constructor":["required"]}') })
    const errors = store.get('errors')
    assert.equal(Object.getPrototypeOf(errors), Object.prototype)
    assert.deepEqual(Object.getOwnPropertyDescriptor(errors, '__proto__')?.value, ['bad'])
    assert.deepEqual(store.get('errors.constructor'), ['required'])
    assert.deepEqual([...store.trackedChanges], [{ kind: 'replace', path: ['errors'] }])
  })

  test('update replaces every value', ({ assert }) => {
    const store = new ValuesStore({ a: 1, b: 2 })
    store.update({ z: 0 })
    assert.deepEqual(store.all(), { z: 0 })
    assert.isTrue(store.wasCleared)
  })

  test('track merged values by the path of each value written', ({ assert }) => {
    const store = new ValuesStore({ cart: { a: 1 } })
    store.merge({ cart: { b: 2, c: { d: 3 } } })
    assert.deepEqual(
      [...store.trackedChanges].map((change) => change.path.join('.')),
      ['cart.b', 'cart.c']
    )
  })

  test('track a change per path, increments and pushes as operations', ({ assert }) => {
    const store = new ValuesStore({ cart: { a: 1 }, log: ['x'] })
    store.set('cart.b', 2)
    store.increment('views')
    store.increment('views', 4)
    store.push('log', 'y')
    store.push('log', 'z')
    store.unset('cart.a')
    assert.deepEqual(
      [...store.trackedChanges],
      [
        { kind: 'replace', path: ['cart', 'b'] },
        { kind: 'increment', path: ['views'], by: 5 },
        { kind: 'push', path: ['log'], items: ['y', 'z'] },
        { kind: 'replace', path: ['cart', 'a'] },
      ]
    )
  })

  test('let a replaced path cover the changes under it, before and after', ({ assert }) => {
    const store = new ValuesStore({})
    store.set('cart.a', 1)
    store.set('cart', { b: 2 })
    store.increment('cart.count')
    store.push('cart.items', 'x')
    assert.deepEqual([...store.trackedChanges], [{ kind: 'replace', path: ['cart'] }])
    assert.deepEqual(store.all(), { cart: { b: 2, count: 1, items: ['x'] } })
  })

  test('turn mixed changes of one path into a replace', ({ assert }) => {
    const store = new ValuesStore({ n: 1, cart: { a: 1 }, name: 'ada' })
    store.increment('n')
    store.set('n', 7)
    store.increment('cart.a')
    store.push('cart', 'x')
    store.push('name', 'x')
    assert.deepEqual(
      [...store.trackedChanges],
      [
        { kind: 'replace', path: ['n'] },
        { kind: 'replace', path: ['cart'] },
        { kind: 'replace', path: ['name'] },
      ]
    )
  })

  test('leave no empty parent objects after unset and pull', ({ assert }) => {
    const store = new ValuesStore({ redirect: { intendedUrl: '/a' }, a: { b: { c: 1 }, d: 2 } })
    store.unset('redirect.intendedUrl')
    assert.equal(store.pull('a.b.c'), 1)
    assert.deepEqual(store.all(), { a: { d: 2 } })
    store.unset('a.d')
    store.unset('missing.path')
    assert.deepEqual(store.all(), {})
  })

  test('mark a key changed after its value was mutated in place', ({ assert }) => {
    const store = new ValuesStore({ list: [1] })
    ;(store.get('list') as number[]).push(2)
    assert.isFalse(store.hasBeenModified)
    store.markChanged('list')
    assert.isTrue(store.hasBeenModified)
    assert.deepEqual([...store.changedKeys], ['list'])
  })

  test('refuse keys that would reach Object.prototype', ({ assert }) => {
    const store = new ValuesStore({})
    assert.throws(() => store.set('__proto__.polluted', true), /"__proto__" is reserved/)
    assert.throws(() => store.set('constructor.prototype.polluted', true), /reserved/)
    assert.throws(() => store.set(['a', '__proto__'], 1), /reserved/)
    assert.isUndefined(({} as any).polluted)
    assert.isFalse(store.hasBeenModified)
  })
})

test.group('pickPaths and omitPaths', () => {
  test('pick nested values by dot path and leave missing paths out', ({ assert }) => {
    const source = { user: { name: 'ada', email: 'a@b.c' }, role: 'admin' }
    assert.deepEqual(pickPaths(source, ['user.name', 'role', 'user.missing', 'nothing']), {
      user: { name: 'ada' },
      role: 'admin',
    })
  })

  test('omit nested values by dot path without changing the source', ({ assert }) => {
    const source = { user: { name: 'ada', password: 'secret' }, tags: ['a'], keep: 1 }
    const result = omitPaths(source, ['user.password', 'tags', 'keep.deeper', 'absent.path'])
    assert.deepEqual(result, { user: { name: 'ada' }, keep: 1 })
    assert.deepEqual(source, { user: { name: 'ada', password: 'secret' }, tags: ['a'], keep: 1 })
  })

  test('refuse paths that reach a prototype', ({ assert }) => {
    assert.throws(() => pickPaths({}, ['__proto__.polluted']), /E_SESSION_INVALID_KEY|__proto__/)
    assert.throws(
      () => omitPaths({}, ['constructor.prototype']),
      /E_SESSION_INVALID_KEY|constructor/
    )
  })
})
