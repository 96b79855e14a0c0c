import { test } from '@japa/runner'
import { ByteBudgetCache, decodedJsonBytes, stringBytes } from '../src/byte_budget_cache.js'

/** A cache of strings that take their length in bytes. */
function cacheOf(budgetBytes: number) {
  return new ByteBudgetCache<string, string>(budgetBytes, (value) => value.length)
}

test.group('ByteBudgetCache', () => {
  test('hold values while their sizes fit the budget', ({ assert }) => {
    const cache = cacheOf(10)
    cache.set('a', 'xxxx')
    cache.set('b', 'yyyyyy')
    assert.equal(cache.get('a'), 'xxxx')
    assert.equal(cache.get('b'), 'yyyyyy')
    assert.equal(cache.bytes, 10)
    assert.equal(cache.size, 2)
  })

  test('forget the least recently used values first when over the budget', ({ assert }) => {
    const cache = cacheOf(10)
    cache.set('a', 'xxx')
    cache.set('b', 'xxx')
    cache.set('c', 'xxx')
    cache.get('a')
    cache.set('d', 'xxx')
    assert.isTrue(cache.has('a'))
    assert.isFalse(cache.has('b'))
    assert.isTrue(cache.has('c'))
    assert.isTrue(cache.has('d'))
    assert.equal(cache.bytes, 9)
  })

  test('never hold a value larger than the whole budget, nor keep the old one of its key', ({
    assert,
  }) => {
    const cache = cacheOf(10)
    cache.set('a', 'xxx')
    cache.set('b', 'xxx')
    assert.isFalse(cache.set('a', 'x'.repeat(11)))
    assert.isFalse(cache.has('a'))
    assert.isTrue(cache.has('b'))
    assert.equal(cache.bytes, 3)
  })

  test('count a replaced value once', ({ assert }) => {
    const cache = cacheOf(10)
    cache.set('a', 'xxx')
    cache.set('a', 'xxxxx')
    assert.equal(cache.bytes, 5)
    assert.equal(cache.size, 1)
  })

  test('measure a value again after it grew in place, evicting others or itself', ({ assert }) => {
    const cache = new ByteBudgetCache<string, { size: number }>(10, (value) => value.size)
    const grown = { size: 3 }
    cache.set('old', { size: 4 })
    cache.set('grown', grown)
    grown.size = 7
    cache.resize('grown')
    assert.isFalse(cache.has('old'))
    assert.equal(cache.bytes, 7)
    grown.size = 11
    cache.resize('grown')
    assert.equal(cache.size, 0)
    assert.equal(cache.bytes, 0)
    cache.resize('missing')
    assert.equal(cache.bytes, 0)
  })

  test('keep nothing with a budget of 0', ({ assert }) => {
    const cache = cacheOf(0)
    assert.isFalse(cache.set('a', 'x'))
    assert.isUndefined(cache.get('a'))
  })

  test('forget one value or all of them', ({ assert }) => {
    const cache = cacheOf(10)
    cache.set('a', 'xx')
    cache.set('b', 'xx')
    cache.delete('a')
    cache.delete('missing')
    assert.equal(cache.bytes, 2)
    cache.clear()
    assert.equal(cache.size, 0)
    assert.equal(cache.bytes, 0)
  })

  test('stay within the budget over many random writes', ({ assert }) => {
    const cache = cacheOf(1000)
    for (let index = 0; index < 5000; index++) {
      cache.set(String(index % 700), 'x'.repeat(Math.floor(Math.random() * 120)))
      assert.isAtMost(cache.bytes, 1000)
    }
  })

  test('refuse a budget that is not a whole number of bytes, 0 or more', ({ assert }) => {
    for (const budget of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(
        () => cacheOf(budget),
        `A cache budget must be a whole number of bytes, 0 or more, received "${budget}"`
      )
    }
  })

  test('estimate strings and decoded JSON on the safe side of what V8 takes', ({ assert }) => {
    assert.isAbove(stringBytes('ab'), 4)
    assert.isAbove(decodedJsonBytes('{"a":1}'), 3 * 7)
  })
})
