import { test } from '@japa/runner'
import { flashableInput, type FlashableInputRules } from '../src/flashable_input.js'

/**
 * The default rules with the given changes.
 */
function rules(changes: Partial<FlashableInputRules> = {}): FlashableInputRules {
  return {
    neverFlash: new Set(['password', '_csrf']),
    detectSecretFields: true,
    limits: { field: 100, total: 250 },
    ...changes,
  }
}

test.group('flashableInput', () => {
  test('leave out neverFlash names and dot paths and secret-looking names at any depth', ({
    assert,
  }) => {
    const input = {
      email: 'a@b.c',
      password: 'x',
      user: { name: 'Ada', new_password: 'y', card: { number: '4242', holder: 'Ada' } },
      contacts: [{ email: 'c@d.e', otp: '1' }],
    }
    const flashed = flashableInput(input, rules({ neverFlash: new Set(['user.card.number']) }))
    assert.deepEqual(flashed, {
      email: 'a@b.c',
      user: { name: 'Ada', card: { holder: 'Ada' } },
      contacts: [{ email: 'c@d.e' }],
    })
  })

  test('flash secret-looking names when detectSecretFields is false', ({ assert }) => {
    const flashed = flashableInput(
      { otp: '1', password: 'x' },
      rules({ detectSecretFields: false })
    )
    assert.deepEqual(flashed, { otp: '1' })
  })

  test('leave out a field whose name and value exceed the field limit', ({ assert }) => {
    const flashed = flashableInput(
      { a: 'x'.repeat(99), b: 'x'.repeat(100), ['n'.repeat(101)]: 1, c: 'é'.repeat(50) },
      rules({ limits: { field: 100, total: 1000 } })
    )
    assert.deepEqual(Object.keys(flashed), ['a'])
  })

  test('keep fields in order until the total is reached, counting nested ones', ({ assert }) => {
    const flashed = flashableInput(
      { a: 'x'.repeat(90), nested: { b: 'x'.repeat(90) }, c: 'x'.repeat(90), d: 'short' },
      rules()
    )
    assert.deepEqual(flashed, { a: 'x'.repeat(90), nested: { b: 'x'.repeat(90) }, d: 'short' })
  })

  test('keep a "__proto__" key as plain data, never as the prototype', ({ assert }) => {
    const flashed = flashableInput(JSON.parse('{"__proto__":{"polluted":true},"a":1}'), rules())
    assert.strictEqual(Object.getPrototypeOf(flashed), Object.prototype)
    assert.deepEqual(Object.keys(flashed), ['__proto__', 'a'])
    assert.isUndefined((flashed as any).polluted)
  })

  test('flash nothing from input that is not an object', ({ assert }) => {
    assert.deepEqual(flashableInput(null, rules()), {})
    assert.deepEqual(flashableInput(['a'], rules()), {})
    assert.deepEqual(flashableInput('text', rules()), {})
  })
})
