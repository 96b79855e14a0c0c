import { test } from '@japa/runner'
import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { createRequire, syncBuiltinESMExports } from 'node:module'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { defineConfig as defineHttpConfig } from '@adonisjs/core/http'
import { KeyRing } from '../../src/key_ring.js'
import { encodePayload } from '../../src/payload.js'
import { generateSessionId } from '../../src/session_cookies.js'
import { defineConfig, stores } from '../../src/define_config.js'
import { createTestApp } from '../../tests_helpers/index.js'
import {
  appConfigWithKey,
  appEncrypterFor,
  keyRotations,
  MISSING_APP_KEY_ERROR,
} from '../../tests_helpers/framework.js'
import {
  APP_KEY,
  bootSecurityApp,
  COOKIE_NAME,
  rawGet,
  runDebugProbe,
  sessionIdOf,
  signId,
  type SecurityApp,
} from './helpers.js'

const OTHER_KEY = 'another-app-key-of-32-characters'
const THIRD_KEY = 'a-third-app-key-nobody-lists-now'

/**
 * `s:<payload>.<hmac>` over any payload text, signed with `key`.
 */
function signRaw(text: string, key: string = APP_KEY): string {
  const encoded = Buffer.from(text).toString('base64url')
  const cryptoKey = createHash('sha256').update(key).digest()
  return `s:${encoded}.${createHmac('sha256', cryptoKey).update(encoded).digest('base64url')}`
}

/**
 * `e:<cipher>.<iv>.<hmac>` over any plain text, encrypted with `key`.
 */
function encryptRaw(plain: string, key: string = APP_KEY): string {
  const cryptoKey = createHash('sha256').update(key).digest()
  const iv = randomBytes(12).toString('base64url')
  const cipher = createCipheriv('aes-256-cbc', cryptoKey, iv)
  const encrypted = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
  const body = `${encrypted.toString('base64url')}.${Buffer.from(iv).toString('base64url')}`
  return `e:${body}.${createHmac('sha256', cryptoKey).update(body).digest('base64url')}`
}

/**
 * The value with the character at `index` replaced by another one.
 */
function flipAt(value: string, index: number): string {
  const replacement = value[index] === 'A' ? 'B' : 'A'
  return `${value.slice(0, index)}${replacement}${value.slice(index + 1)}`
}

/**
 * GET /read with a raw Cookie header; the parsed body and status.
 */
async function readWith(app: SecurityApp, cookie: string) {
  const response = await rawGet(app.url, '/read', { cookie })
  return { status: response.status, body: JSON.parse(response.body) }
}

/**
 * The cookie pair of a session id cookie holding `value`.
 */
function idCookie(value: string) {
  return `${COOKIE_NAME}=${encodeURIComponent(value)}`
}

test.group('security | tampering, cryptography, keys', () => {
  test('C1: a tampered, truncated, wrong-key, expired or non-JSON id cookie gives a fresh session', async ({
    assert,
    cleanup,
  }) => {
    const app = await bootSecurityApp({ store: 'memory' })
    cleanup(() => app.close())
    const client = app.client()
    await client.post('/put', { secret: 'kept' })
    const id = sessionIdOf(client)!
    const valid = signId(id)
    const past = new Date(Date.now() - 1000).toISOString()
    const broken = [
      flipAt(valid, 10),
      valid.slice(0, valid.length - 5),
      valid.slice(0, valid.indexOf('.')),
      signId(id, OTHER_KEY),
      signRaw(JSON.stringify({ message: id, purpose: COOKIE_NAME, expiryDate: past })),
      signRaw(`{ message: "${id}", purpose: "${COOKIE_NAME}" }`),
      signRaw(id),
      signRaw(JSON.stringify({ message: id, purpose: 'another_cookie' })),
    ]
    assert.deepEqual((await readWith(app, idCookie(valid))).body.values, { secret: 'kept' })
    for (const value of broken) {
      assert.deepEqual(await readWith(app, idCookie(value)), {
        status: 200,
        body: { values: {}, fresh: true },
      })
    }
  })

  test('C1: an id cookie past the expiry signed into it is refused while its session lives on', async ({
    assert,
    cleanup,
  }) => {
    const app = await bootSecurityApp({ store: 'memory', session: { age: '2s' } })
    cleanup(() => app.close())
    const client = app.client()
    await client.post('/put', { secret: 'kept' })
    const firstCopy = `${COOKIE_NAME}=${client.jar.get(COOKIE_NAME)}`
    assert.deepEqual((await readWith(app, firstCopy)).body.values, { secret: 'kept' })
    for (const pause of [1100, 1100]) {
      await sleep(pause)
      assert.deepEqual((await client.get('/read')).json().values, { secret: 'kept' })
    }
    assert.notEqual(`${COOKIE_NAME}=${client.jar.get(COOKIE_NAME)}`, firstCopy)
    assert.deepEqual(await readWith(app, firstCopy), {
      status: 200,
      body: { values: {}, fresh: true },
    })
  })

  test('C1: a tampered, truncated, wrong-key, expired or non-JSON data cookie gives a fresh session', async ({
    assert,
    cleanup,
  }) => {
    const app = await bootSecurityApp({ store: 'cookie' })
    cleanup(() => app.close())
    const client = app.client()
    await client.post('/put', { secret: 'kept' })
    const id = sessionIdOf(client)!
    const valid = decodeURIComponent(client.jar.get(id)!)
    const withData = (data: string) => `${idCookie(signId(id))}; ${id}=${encodeURIComponent(data)}`
    const ring = new KeyRing([APP_KEY])
    const broken = [
      flipAt(valid, 20),
      valid.slice(0, valid.length - 10),
      new KeyRing([OTHER_KEY]).encrypt({ secret: 'forged' }, id),
      ring.encrypt({ secret: 'expired' }, id, new Date(Date.now() - 1000)),
      encryptRaw(`{ message: { secret: 'js' }, purpose: '${id}' }`),
      encryptRaw('not json at all'),
      ring.encrypt({ secret: 'other session' }, generateSessionId()),
      ring.encrypt(['an', 'array'], id),
    ]
    assert.deepEqual((await readWith(app, withData(valid))).body.values, { secret: 'kept' })
    for (const data of broken) {
      assert.deepEqual(await readWith(app, withData(data)), {
        status: 200,
        body: { values: {}, fresh: true },
      })
    }
  })

  test('C1: every rejected cookie leaves a debug line that names it by fingerprint', async ({
    assert,
  }) => {
    const { output } = await runDebugProbe()
    assert.match(output, /ignoring session cookie [0-9a-f]{8}: not signed by a known key/)
    assert.match(output, /ignoring session cookie [0-9a-f]{8}: 5000 bytes is too long/)
    assert.match(output, /ignoring data cookie [0-9a-f]{8} of session [0-9a-f]{8}: tampered/)
  }).timeout(60_000)

  test('C2: every signature and MAC check goes through timingSafeEqual, length first', ({
    assert,
    cleanup,
  }) => {
    const crypto = createRequire(import.meta.url)('node:crypto')
    const original = crypto.timingSafeEqual
    let comparisons = 0
    crypto.timingSafeEqual = (left: Buffer, right: Buffer) => {
      comparisons++
      return original(left, right)
    }
    syncBuiltinESMExports()
    cleanup(() => {
      crypto.timingSafeEqual = original
      syncBuiltinESMExports()
    })
    const ring = new KeyRing([APP_KEY, OTHER_KEY])
    const signed = ring.sign('abcdefghijklmnopqrstuvwx', COOKIE_NAME)
    const sealed = ring.encrypt({ a: 1 }, 'purpose')
    assert.isNotNull(ring.unsign(signed, COOKIE_NAME))
    assert.isNull(ring.unsign(flipAt(signed, signed.length - 3), COOKIE_NAME))
    assert.isNotNull(ring.decrypt(sealed, 'purpose'))
    assert.isNull(ring.decrypt(flipAt(sealed, sealed.length - 3), 'purpose'))
    assert.equal(comparisons, 1 + 2 + 1 + 2)
    assert.isNull(ring.unsign(`${signed}AAAA`, COOKIE_NAME))
    assert.isNull(ring.decrypt(sealed.slice(0, -4), 'purpose'))
    const multiByte = (value: string) => `${value.slice(0, -1)}\u0083`
    assert.isNull(ring.unsign(multiByte(signed), COOKIE_NAME))
    assert.isNull(ring.decrypt(multiByte(sealed), 'purpose'))
    assert.equal(comparisons, 6)
  })

  test('C3: flipping any character of an encrypted value gives a fresh session', async ({
    assert,
    cleanup,
  }) => {
    const ring = new KeyRing([APP_KEY])
    const id = generateSessionId()
    const sealed = ring.encrypt({ secret: 1 }, id, new Date(Date.now() + 60_000))
    let accepted = 0
    for (let index = 2; index < sealed.length; index++) {
      if (ring.decrypt(flipAt(sealed, index), id) !== null) accepted++
    }
    assert.equal(accepted, 0)

    const app = await bootSecurityApp({ store: 'cookie' })
    cleanup(() => app.close())
    const client = app.client()
    await client.post('/put', { secret: 'kept' })
    const sessionId = sessionIdOf(client)!
    const data = decodeURIComponent(client.jar.get(sessionId)!)
    const [cipher, iv] = data.slice(2).split('.')
    const positions = [3, 2 + cipher.length + 3, 2 + cipher.length + 1 + iv.length + 3]
    for (const index of positions) {
      const cookie = `${idCookie(signId(sessionId))}; ${sessionId}=${encodeURIComponent(flipAt(data, index))}`
      assert.deepEqual((await readWith(app, cookie)).body, { values: {}, fresh: true })
    }
  })

  test('C4: extra content after a valid signed or encrypted value is rejected', async ({
    assert,
    cleanup,
  }) => {
    const app = await bootSecurityApp({ store: 'cookie' })
    cleanup(() => app.close())
    const client = app.client()
    await client.post('/put', { secret: 'kept' })
    const id = sessionIdOf(client)!
    const signed = signId(id)
    const sealed = decodeURIComponent(client.jar.get(id)!)
    for (const suffix of ['.x', 'x', '.', '..', ` ${signed}`, `.${signed.slice(2)}`]) {
      const cookie = `${idCookie(`${signed}${suffix}`)}; ${id}=${encodeURIComponent(sealed)}`
      assert.deepEqual((await readWith(app, cookie)).body, { values: {}, fresh: true }, suffix)
      const withData = `${idCookie(signed)}; ${id}=${encodeURIComponent(`${sealed}${suffix}`)}`
      assert.deepEqual((await readWith(app, withData)).body, { values: {}, fresh: true }, suffix)
    }
  })

  test('C5: __proto__ and constructor keys in stored payloads never reach Object.prototype', async ({
    assert,
    cleanup,
  }) => {
    const app = await bootSecurityApp({ store: 'file' })
    cleanup(() => app.close())
    const client = app.client()
    await client.post('/put', { visible: true })
    const id = sessionIdOf(client)!
    const hostile = `{"message":{"__proto__":{"polluted":"file"},"constructor":{"prototype":{"polluted":"ctor"}},"visible":true},"purpose":"${id}"}`
    await writeFile(join(app.location, `${id}.txt`), hostile)
    const response = await client.get('/read')
    assert.equal(response.status, 200)
    assert.deepEqual(response.json().values, { visible: true })
    assert.isUndefined(({} as any).polluted)

    const cookieApp = await bootSecurityApp({ store: 'cookie' })
    cleanup(() => cookieApp.close())
    const data = JSON.parse('{"__proto__":{"polluted":"cookie"},"visible":true}')
    const cookie = `${idCookie(signId(id))}; ${id}=${encodeURIComponent(new KeyRing([APP_KEY]).encrypt(data, id))}`
    assert.deepEqual((await readWith(cookieApp, cookie)).body.values, { visible: true })
    const idWithProto = signRaw(
      `{"message":"${id}","purpose":"${COOKIE_NAME}","__proto__":{"polluted":"id"}}`
    )
    await readWith(cookieApp, idCookie(idWithProto))
    assert.isUndefined(({} as any).polluted)
  })

  test('C5: payloads are parsed as JSON only: JavaScript object syntax reads as no session', async ({
    assert,
    cleanup,
  }) => {
    const app = await bootSecurityApp({ store: 'file' })
    cleanup(() => app.close())
    const client = app.client()
    await client.post('/put', { visible: true })
    const id = sessionIdOf(client)!
    const javascript = `({ message: { visible: true, get x() { return globalThis.hacked = 1 } }, purpose: '${id}' })`
    await writeFile(join(app.location, `${id}.txt`), javascript)
    assert.deepEqual((await client.get('/read')).json(), { values: {}, fresh: true })
    assert.isUndefined((globalThis as any).hacked)
    assert.equal(encodePayload(id, { a: 1 }), `{"message":{"a":1},"purpose":"${id}"}`)
  })

  test('C6: a missing or too-short app key fails at boot, not on the first request', async ({
    assert,
  }) => {
    const session = defineConfig({ store: 'cookie', stores: { cookie: stores.cookie() } })
    for (const appKey of [undefined, 'short-key']) {
      await assert.rejects(
        () => createTestApp({ session, config: appConfigWithKey(appKey, defineHttpConfig({})) }),
        MISSING_APP_KEY_ERROR
      )
    }
    await assert.rejects(
      () =>
        createTestApp({
          session: defineConfig({
            store: 'cookie',
            stores: { cookie: stores.cookie() },
            previousKeys: ['old'],
          }),
        }),
      /must be at least 16 characters/
    )
  })

  for (const store of ['cookie', 'file'] as const) {
    for (const rotation of keyRotations(OTHER_KEY, APP_KEY)) {
      test(`C7: a ${store} store session made with an old key is re-issued with the newest and a removed key gives a fresh session (${rotation.name})`, async ({
        assert,
        cleanup,
      }) => {
        const before = await bootSecurityApp({ store })
        cleanup(() => before.close())
        const client = before.client()
        await client.post('/put', { secret: 'kept' })
        const id = sessionIdOf(client)!

        const rotated = await bootSecurityApp({
          store,
          appKey: rotation.appKey,
          location: before.location,
          session: { previousKeys: rotation.previousKeys },
        })
        cleanup(() => rotated.close())
        client.baseUrl = rotated.url
        const captured = new Map(client.jar)
        const replay = client.jar.get(COOKIE_NAME)!
        const response = await client.get('/read')
        assert.deepEqual(response.json().values, { secret: 'kept' })
        assert.equal(sessionIdOf(client, OTHER_KEY), id)
        assert.notEqual(client.jar.get(COOKIE_NAME), replay)
        if (store === 'cookie') {
          const data = decodeURIComponent(client.jar.get(id)!)
          const newestOnly = new KeyRing([OTHER_KEY], { encrypterFor: appEncrypterFor })
          assert.deepInclude(newestOnly.decrypt(data, id)?.value, { secret: 'kept' })
        }

        const removed = await bootSecurityApp({
          store,
          appKey: THIRD_KEY,
          location: before.location,
        })
        cleanup(() => removed.close())
        const stranger = before.client()
        stranger.baseUrl = removed.url
        stranger.jar = captured
        const refused = await stranger.get('/read')
        assert.equal(refused.status, 200)
        assert.deepEqual(refused.json(), { values: {}, fresh: true })
      })
    }
  }
})
