import { test } from '@japa/runner'
import { readFile } from 'node:fs/promises'
import type { Router } from '@adonisjs/core/http'
import {
  defineConfig as officialDefineConfig,
  stores as officialStores,
} from 'adonisjs-session-official'
import { defineConfig, stores } from '../../src/define_config.js'
import { KeyRing } from '../../src/key_ring.js'
import { METADATA_KEY } from '../../src/payload.js'
import { CookieClient, createTestApp } from '../../tests_helpers/index.js'
import { createOfficialTestApp } from '../../tests_helpers/official_app.js'
import { TEST_APP_KEY } from '../../tests_helpers/http_context.js'
import { appEncrypterFor } from '../../tests_helpers/framework.js'

/** The official package beside this one: 7.x on AdonisJS 6, 8.x on 7. */
const official = JSON.parse(
  await readFile(
    new URL('../../node_modules/adonisjs-session-official/package.json', import.meta.url),
    'utf8'
  )
) as { version: string }
const OFFICIAL = `@adonisjs/session ${official.version}`

/**
 * Routes of both apps: put each key of the JSON body, tag the session with a
 * user (this package only), read every value and the metadata.
 */
function routes(router: Router) {
  router.post('/put', ({ session, request }) => {
    for (const [key, value] of Object.entries(request.body())) {
      session.put(key, value)
    }
    return { id: session.sessionId }
  })
  router.post('/tag', async ({ session }) => {
    await session.tag(42)
    return { id: session.sessionId }
  })
  router.get('/all', ({ session }) => ({
    id: session.sessionId,
    values: session.all(),
    metadata: (session as { metadata?: unknown }).metadata ?? null,
  }))
}

/** An app of this package on the cookie store, recording the user of tagged sessions. */
function satchelApp() {
  return createTestApp({
    session: defineConfig({
      store: 'cookie',
      stores: { cookie: stores.cookie() },
      cookieRevocation: { validAfter: () => undefined },
    }),
    routes,
  })
}

/** An app of the official package on the cookie store. */
function officialApp() {
  return createOfficialTestApp({
    session: officialDefineConfig({ store: 'cookie', stores: { cookie: officialStores.cookie() } }),
    routes,
  })
}

/** The KeyRing of an app: with its default encrypter on AdonisJS 7 (`gcm`). */
function appKeyRing(): KeyRing {
  return new KeyRing([TEST_APP_KEY], { encrypterFor: appEncrypterFor })
}

test.group(`CookieStore | metadata and ${OFFICIAL}`, () => {
  test('seal the metadata beside the message, so the official package reads only the values', async ({
    assert,
    cleanup,
  }) => {
    const satchel = await satchelApp()
    cleanup(() => satchel.close())
    const officialServer = await officialApp()
    cleanup(() => officialServer.close())
    const browser = new CookieClient(satchel.url)
    const { id } = (await browser.post('/put', { cart: [1, 2] })).json()
    await browser.post('/tag')
    const sealed = browser.jar.get(id)!
    const opened = satchel.manager.cookies.keyRing.decrypt<Record<string, unknown>>(
      decodeURIComponent(sealed),
      id
    )
    assert.deepEqual(opened?.value, { cart: [1, 2] })
    assert.include(opened?.meta, { userId: '42' })

    browser.baseUrl = officialServer.url
    const read = (await browser.get('/all')).json()
    assert.equal(read.id, id)
    assert.deepEqual(read.values, { cart: [1, 2] })
  })

  test('keep the metadata across requests, and the values after a round trip through the official package', async ({
    assert,
    cleanup,
  }) => {
    const satchel = await satchelApp()
    cleanup(() => satchel.close())
    const officialServer = await officialApp()
    cleanup(() => officialServer.close())
    const browser = new CookieClient(satchel.url)
    await browser.post('/put', { cart: [1] })
    await browser.post('/tag')
    const before = (await browser.get('/all')).json()
    assert.deepEqual(before.values, { cart: [1] })
    assert.include(before.metadata, { userId: '42' })

    browser.baseUrl = officialServer.url
    await browser.post('/put', { step: 'official' })
    browser.baseUrl = satchel.url
    const after = (await browser.get('/all')).json()
    assert.equal(after.id, before.id)
    assert.deepEqual(after.values, { cart: [1], step: 'official' })
  })

  test('still read a cookie of the earlier layout, with the metadata inside the data', async ({
    assert,
    cleanup,
  }) => {
    const satchel = await satchelApp()
    cleanup(() => satchel.close())
    const browser = new CookieClient(satchel.url)
    const { id } = (await browser.post('/put', { cart: [1] })).json()
    const metadata = { createdAt: Date.now() - 1000, lastSeenAt: Date.now(), userId: '7' }
    const earlier = appKeyRing().encrypt(
      { cart: [1], [METADATA_KEY]: metadata },
      id,
      new Date(Date.now() + 60_000)
    )
    browser.jar.set(id, encodeURIComponent(earlier))
    const read = (await browser.get('/all')).json()
    assert.equal(read.id, id)
    assert.deepEqual(read.values, { cart: [1] })
    assert.include(read.metadata, { userId: '7', createdAt: metadata.createdAt })
  })

  test('seal a cookie no larger than with the metadata inside the data', ({ assert }) => {
    const ring = appKeyRing()
    const id = 'a-session-id-1234567890'
    const values = { user: { id: 7, name: 'Zoë' }, cart: [1, 2, 3] }
    const metadata = {
      createdAt: 1764800000000,
      lastSeenAt: 1764800000000,
      userId: '42',
      taggedAt: 1764800000000,
    }
    const expiresAt = new Date(Date.now() + 60_000)
    for (const notice of ['', 'x', 'x'.repeat(7), 'x'.repeat(300), 'x'.repeat(2000)]) {
      const beside = ring.encrypt({ ...values, notice }, id, expiresAt, metadata)
      const inside = ring.encrypt({ ...values, notice, [METADATA_KEY]: metadata }, id, expiresAt)
      assert.deepEqual(ring.decrypt(beside, id)?.meta, metadata)
      assert.isAtMost(beside.length, inside.length)
    }
  })
})
