import { test } from '@japa/runner'
import { KeyRing } from '../src/key_ring.js'
import type { AppEncrypter } from '../src/framework.js'
import {
  createEncryption,
  createHttpContext,
  setCookiesOf,
  TEST_APP_KEY,
} from '../tests_helpers/http_context.js'
import { adonisMajor, appEncrypterFor, signWithFramework } from '../tests_helpers/framework.js'

const OLD_KEY = 'an-older-app-key-that-rotated-out'

/**
 * The KeyRing an app's session manager makes: with the app's default
 * encrypter on AdonisJS 7 (`gcm` in a new app), on its own on AdonisJS 6.
 */
function appKeyRing(): KeyRing {
  return new KeyRing([TEST_APP_KEY], { encrypterFor: appEncrypterFor })
}

/**
 * The value of the first Set-Cookie line of a response, URL-decoded.
 */
function firstCookieValue(lines: string[]): string {
  const pair = lines[0].split(';')[0]
  return decodeURIComponent(pair.slice(pair.indexOf('=') + 1))
}

/**
 * Flip one character of a string at `index` to another base64url character.
 */
function flip(value: string, index: number): string {
  const replacement = value[index] === 'A' ? 'B' : 'A'
  return value.slice(0, index) + replacement + value.slice(index + 1)
}

test.group('KeyRing | signed values', () => {
  test('sign values that AdonisJS reads as signed cookies', ({ assert }) => {
    const signed = new KeyRing([TEST_APP_KEY]).sign('the-session-id-1234', 'adonis_session')
    const ctx = createHttpContext({ cookie: `adonis_session=${encodeURIComponent(signed)}` })
    assert.equal(ctx.request.cookie('adonis_session'), 'the-session-id-1234')
  })

  test('verify signed cookies that AdonisJS wrote', ({ assert }) => {
    const ctx = createHttpContext()
    ctx.response.cookie('adonis_session', 'the-session-id-1234')
    const verified = new KeyRing([TEST_APP_KEY]).unsign(
      firstCookieValue(setCookiesOf(ctx)),
      'adonis_session'
    )
    assert.deepEqual(verified, { value: 'the-session-id-1234', stale: false })
  })

  test('reject a tampered, extended, re-purposed or foreign-key signed value', ({ assert }) => {
    const ring = new KeyRing([TEST_APP_KEY])
    const signed = ring.sign('the-session-id-1234', 'adonis_session')
    const [payload, signature] = signed.slice(2).split('.')
    assert.isNull(ring.unsign(`s:${flip(payload, 3)}.${signature}`, 'adonis_session'))
    assert.isNull(ring.unsign(`s:${payload}.${flip(signature, 3)}`, 'adonis_session'))
    assert.isNull(ring.unsign(`${signed}.extra`, 'adonis_session'))
    assert.isNull(ring.unsign(signed.slice(2), 'adonis_session'))
    assert.isNull(ring.unsign(signed, 'other_cookie'))
    assert.isNull(new KeyRing([OLD_KEY]).unsign(signed, 'adonis_session'))
  })

  test('reject a signed value whose expiry has passed', async ({ assert }) => {
    const encryption = createEncryption()
    const signed = `s:${signWithFramework(encryption, 'the-session-id-1234', 5, 'adonis_session')}`
    await new Promise((resolve) => setTimeout(resolve, 20))
    assert.isNull(new KeyRing([TEST_APP_KEY]).unsign(signed, 'adonis_session'))
  })
})

test.group('KeyRing | encrypted values', () => {
  test('encrypt values that AdonisJS reads as encrypted cookies', ({ assert }) => {
    const sealed = appKeyRing().encrypt({ cart: [1, 2] }, 'session-id-abcdefgh')
    const ctx = createHttpContext({ cookie: `session-id-abcdefgh=${encodeURIComponent(sealed)}` })
    assert.deepEqual(ctx.request.encryptedCookie('session-id-abcdefgh'), { cart: [1, 2] })
  })

  test('decrypt encrypted cookies that AdonisJS wrote', ({ assert }) => {
    const ctx = createHttpContext()
    ctx.response.encryptedCookie('session-id-abcdefgh', { cart: [1, 2] })
    const verified = appKeyRing().decrypt(
      firstCookieValue(setCookiesOf(ctx)),
      'session-id-abcdefgh'
    )
    assert.deepEqual(verified?.value, { cart: [1, 2] })
  })

  test('never show the plain data in the encrypted value', ({ assert }) => {
    const sealed = new KeyRing([TEST_APP_KEY]).encrypt({ secret: 'hunter2' }, 'purpose-1234567890')
    assert.match(sealed, /^e:[\w-]+\.[\w-]+\.[\w-]+$/)
    const decoded = sealed
      .slice(2)
      .split('.')
      .map((part) => Buffer.from(part, 'base64url').toString('latin1'))
      .join('')
    assert.notInclude(decoded, 'hunter2')
    assert.notInclude(decoded, 'secret')
  })

  test('reject an encrypted value when any of its parts is changed', ({ assert }) => {
    const ring = new KeyRing([TEST_APP_KEY])
    const parts = ring.encrypt({ a: 1 }, 'purpose-1234567890').slice(2).split('.')
    for (let part = 0; part < parts.length; part++) {
      const changed = [...parts]
      changed[part] = flip(changed[part], 1)
      assert.isNull(ring.decrypt(`e:${changed.join('.')}`, 'purpose-1234567890'), `part ${part}`)
    }
    assert.isNull(ring.decrypt(`e:${parts.join('.')}.x`, 'purpose-1234567890'))
    assert.isNull(ring.decrypt(`e:${parts.join('.')}`, 'another-purpose-123'))
  })

  test('seal an expiry inside the value and reject it once passed', async ({ assert }) => {
    const ring = new KeyRing([TEST_APP_KEY])
    const expiresAt = new Date(Date.now() + 30)
    const sealed = ring.encrypt({ a: 1 }, 'purpose-1234567890', expiresAt)
    assert.equal(ring.decrypt(sealed, 'purpose-1234567890')?.expiresAt, expiresAt.getTime())
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.isNull(ring.decrypt(sealed, 'purpose-1234567890'))
  })
})

test.group('KeyRing | with the app encrypter', () => {
  test('seal in the encrypter format and know the expiry it sealed', async ({ assert }) => {
    const encryption = createEncryption()
    const ring = new KeyRing([TEST_APP_KEY], { encrypterFor: () => encryption })
    const expiresAt = new Date(Date.now() + 40)
    const sealed = ring.encrypt({ a: 1 }, 'purpose-1234567890', expiresAt)
    assert.deepEqual(encryption.decrypt(sealed.slice(2), 'purpose-1234567890'), { a: 1 })
    assert.deepEqual(ring.decrypt(sealed, 'purpose-1234567890'), {
      value: { a: 1 },
      stale: false,
      expiresAt: expiresAt.getTime(),
    })
    assert.isNull(ring.decrypt(sealed, 'another-purpose-123'))
    await new Promise((resolve) => setTimeout(resolve, 60))
    assert.isNull(ring.decrypt(sealed, 'purpose-1234567890'))
  })

  test('open what the encrypter sealed elsewhere, its expiry unknown', ({ assert }) => {
    const sealed = `e:${createEncryption().encrypt({ a: 1 }, undefined, 'purpose-1234567890')}`
    const ring = new KeyRing([TEST_APP_KEY], { encrypterFor: createEncryption })
    assert.deepEqual(ring.decrypt(sealed, 'purpose-1234567890'), {
      value: { a: 1 },
      stale: false,
      expiresAt: undefined,
    })
  })

  test('know the expiry of a value the encrypter sealed elsewhere with one', ({ assert }) => {
    const sealed = `e:${createEncryption().encrypt({ a: 1 }, 60_000, 'purpose-1234567890')}`
    const ring = new KeyRing([TEST_APP_KEY], { encrypterFor: createEncryption })
    const expiresAt = ring.decrypt(sealed, 'purpose-1234567890')?.expiresAt
    assert.isAbove(expiresAt!, Date.now() + 50_000)
  })

  test('still open the legacy format, stale where the app seals another format', ({ assert }) => {
    const legacy = new KeyRing([TEST_APP_KEY]).encrypt({ a: 1 }, 'purpose-1234567890')
    const ring = new KeyRing([TEST_APP_KEY], { encrypterFor: createEncryption })
    const opened = ring.decrypt(legacy, 'purpose-1234567890')
    assert.deepEqual(opened?.value, { a: 1 })
    assert.equal(opened?.stale, adonisMajor === 7)
    assert.isNull(ring.decrypt(legacy, 'another-purpose-123'))
  })

  test('open a value sealed with an older key, stale, and seal with the newest', ({ assert }) => {
    const older = `e:${createEncryption(OLD_KEY).encrypt({ a: 1 }, undefined, 'purpose-1234567890')}`
    const ring = new KeyRing([TEST_APP_KEY, OLD_KEY], { encrypterFor: createEncryption })
    assert.deepEqual(ring.decrypt(older, 'purpose-1234567890'), {
      value: { a: 1 },
      stale: true,
      expiresAt: undefined,
    })
    const resealed = ring.encrypt({ a: 1 }, 'purpose-1234567890')
    assert.deepEqual(createEncryption().decrypt(resealed.slice(2), 'purpose-1234567890'), { a: 1 })
    assert.isFalse(ring.decrypt(resealed, 'purpose-1234567890')!.stale)
  })

  test('reject a value no key opens', ({ assert }) => {
    const foreign = `e:${createEncryption(OLD_KEY).encrypt({ a: 1 }, undefined, 'purpose-1234567890')}`
    const ring = new KeyRing([TEST_APP_KEY], { encrypterFor: createEncryption })
    assert.isNull(ring.decrypt(foreign, 'purpose-1234567890'))
    assert.isNull(ring.decrypt('e:not-sealed', 'purpose-1234567890'))
    assert.isNull(ring.decrypt('plain', 'purpose-1234567890'))
  })
})

/**
 * The `encrypterFor` of an AdonisJS 7 app whose default encrypter in
 * `config/encryption.ts` uses `driver`: one encrypter per key (undefined on
 * AdonisJS 6, which has one format).
 */
async function encrypterForOf(driver: 'aes256gcm' | 'legacy' | 'chacha20') {
  if (adonisMajor === 6) {
    return undefined
  }
  const encryption = (await import('@adonisjs/core/encryption')) as any
  const { configProvider } = await import('@adonisjs/core')
  const built = new Map<string, AppEncrypter>()
  for (const key of [TEST_APP_KEY, OLD_KEY]) {
    const config = await configProvider.resolve<any>(
      null as any,
      encryption.drivers[driver]({ id: driver, keys: [key] })
    )
    built.set(key, new encryption.Encryption(config))
  }
  return (key: string) => built.get(key)!
}

test.group('KeyRing | the metadata beside the message', () => {
  test('seal it beside the message in the formats a gcm or legacy encrypter opens', async ({
    assert,
  }) => {
    const rings = [new KeyRing([TEST_APP_KEY])]
    for (const driver of ['aes256gcm', 'legacy'] as const) {
      const encrypterFor = await encrypterForOf(driver)
      if (encrypterFor) rings.push(new KeyRing([TEST_APP_KEY], { encrypterFor }))
    }
    for (const [index, ring] of rings.entries()) {
      assert.isTrue(ring.sealsBesideMessage, `ring ${index}`)
      const sealed = ring.encrypt({ a: 1 }, 'purpose-1234567890', undefined, { userId: '7' })
      assert.deepEqual(ring.decrypt(sealed, 'purpose-1234567890'), {
        value: { a: 1 },
        stale: false,
        expiresAt: undefined,
        meta: { userId: '7' },
      })
      assert.isNull(ring.decrypt(sealed, 'another-purpose-123'))
    }
  })

  test('hand the metadata to a gcm or legacy encrypter nowhere but beside the message', async ({
    assert,
  }) => {
    for (const driver of ['aes256gcm', 'legacy'] as const) {
      const encrypterFor = await encrypterForOf(driver)
      const ring = new KeyRing([TEST_APP_KEY], { encrypterFor })
      const sealed = ring.encrypt({ a: 1 }, 'purpose-1234567890', undefined, { userId: '7' })
      const opened = (encrypterFor?.(TEST_APP_KEY) ?? createEncryption()).decrypt(
        sealed.slice(2),
        'purpose-1234567890'
      )
      assert.deepEqual(opened, { a: 1 }, driver)
    }
  })

  test('refuse a sealed value spelled differently, even where it decodes to the same bytes', ({
    assert,
  }) => {
    const ring = appKeyRing()
    const sealed = ring.encrypt({ a: 1 }, 'purpose-1234567890', undefined, { userId: '7' })
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const last = alphabet[alphabet.indexOf(sealed.at(-1)!) ^ 1]
    const dot = sealed.indexOf('.', sealed.indexOf('.') + 1)
    for (const respelled of [
      `${sealed.slice(0, -1)}${last}`,
      `${sealed.slice(0, dot)}!${sealed.slice(dot)}`,
      `${sealed}=`,
    ]) {
      assert.isNull(ring.decrypt(respelled, 'purpose-1234567890'), respelled)
    }
    assert.deepEqual(ring.decrypt(sealed, 'purpose-1234567890')?.meta, { userId: '7' })
  })

  test('open values of previous keys beside the message, reporting them stale', async ({
    assert,
  }) => {
    const encrypterFor = await encrypterForOf('aes256gcm')
    const sealed = new KeyRing([OLD_KEY], { encrypterFor }).encrypt(
      { a: 1 },
      'purpose-1234567890',
      undefined,
      { userId: '7' }
    )
    const ring = new KeyRing([TEST_APP_KEY, OLD_KEY], { encrypterFor })
    const opened = ring.decrypt(sealed, 'purpose-1234567890')
    assert.deepEqual(opened?.meta, { userId: '7' })
    assert.isTrue(opened?.stale)
  })

  test('leave the plain text to an encrypter of another format, which has no room beside the message', async ({
    assert,
  }) => {
    const encrypterFor = await encrypterForOf('chacha20')
    const ring = new KeyRing([TEST_APP_KEY], { encrypterFor })
    assert.isFalse(ring.sealsBesideMessage)
    const sealed = ring.encrypt({ a: 1 }, 'purpose-1234567890')
    assert.deepEqual(encrypterFor!(TEST_APP_KEY).decrypt(sealed.slice(2), 'purpose-1234567890'), {
      a: 1,
    })
    assert.deepEqual(ring.decrypt(sealed, 'purpose-1234567890')?.value, { a: 1 })
  }).skip(adonisMajor === 6, 'AdonisJS 6 has one encryption format')
})

test.group('KeyRing | remembered values', () => {
  test('hand out a fresh copy on every decryption, also once the message is copied', ({
    assert,
  }) => {
    const ring = new KeyRing([TEST_APP_KEY])
    const sealed = ring.encrypt({ cart: { items: [1] } }, 'purpose-1234567890')
    const values = [1, 2, 3, 4].map(
      () => ring.decrypt<{ cart: { items: number[] } }>(sealed, 'purpose-1234567890')!.value
    )
    for (const value of values) assert.deepEqual(value, { cart: { items: [1] } })
    assert.equal(new Set(values.map((value) => value.cart.items)).size, 4)
  })

  test('check purpose and expiry of a remembered message on every decryption', async ({
    assert,
  }) => {
    const ring = new KeyRing([TEST_APP_KEY])
    const sealed = ring.encrypt({ a: 1 }, 'purpose-1234567890', new Date(Date.now() + 80))
    for (let round = 0; round < 3; round++) {
      assert.deepEqual(ring.decrypt(sealed, 'purpose-1234567890')?.value, { a: 1 })
    }
    assert.isNull(ring.decrypt(sealed, 'another-purpose-123'))
    await new Promise((resolve) => setTimeout(resolve, 100))
    assert.isNull(ring.decrypt(sealed, 'purpose-1234567890'))
  })

  test('remember decrypted values within cacheBytes, or none with 0', ({ assert }) => {
    const ring = new KeyRing([TEST_APP_KEY], { cacheBytes: 50_000 })
    const uncached = new KeyRing([TEST_APP_KEY], { cacheBytes: 0 })
    for (let index = 0; index < 60; index++) {
      const sealed = ring.encrypt({ index, text: 'x'.repeat(2000) }, 'purpose-1234567890')
      for (let round = 0; round < 3; round++) {
        assert.equal(ring.decrypt<any>(sealed, 'purpose-1234567890')!.value.index, index)
        assert.equal(uncached.decrypt<any>(sealed, 'purpose-1234567890')!.value.index, index)
      }
      assert.isAtMost(ring.cachedBytes, 50_000)
    }
    assert.isAbove(ring.cachedBytes, 25_000)
    assert.equal(uncached.cachedBytes, 0)
  })
})

test.group('KeyRing | key rotation', () => {
  test('sign with the newest key and still verify values of previous keys', ({ assert }) => {
    const old = new KeyRing([OLD_KEY])
    const rotated = new KeyRing([TEST_APP_KEY, OLD_KEY])
    const signed = old.sign('the-session-id-1234', 'adonis_session')
    const sealed = old.encrypt({ a: 1 }, 'purpose-1234567890')
    assert.deepEqual(rotated.unsign(signed, 'adonis_session'), {
      value: 'the-session-id-1234',
      stale: true,
    })
    assert.include(rotated.decrypt(sealed, 'purpose-1234567890'), { stale: true })
    const fresh = rotated.sign('the-session-id-1234', 'adonis_session')
    assert.isNull(old.unsign(fresh, 'adonis_session'))
    assert.include(rotated.unsign(fresh, 'adonis_session'), { stale: false })
  })

  test('reject values of a key that was removed from the ring', ({ assert }) => {
    const signed = new KeyRing([OLD_KEY]).sign('the-session-id-1234', 'adonis_session')
    assert.isNull(new KeyRing([TEST_APP_KEY]).unsign(signed, 'adonis_session'))
  })
})
