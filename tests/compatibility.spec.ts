import { test } from '@japa/runner'
import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import {
  defineConfig as officialDefineConfig,
  SessionCollection as OfficialSessionCollection,
  stores as officialStores,
} from 'adonisjs-session-official'
import { defineConfig, stores } from '../src/define_config.js'
import { CookieClient, createTestApp } from '../tests_helpers/index.js'
import { createOfficialTestApp } from '../tests_helpers/official_app.js'
import { sessionRoutes } from '../tests_helpers/session_routes.js'
import { temporaryFolder } from '../tests_helpers/store_matrix.js'

/**
 * A session with nested values, a list and a flash message, as a real app
 * would leave it after a form post.
 */
const WRITE_CALLS = [
  ['put', 'user', { id: 7, name: 'Zoë' }],
  ['put', 'cart', [1, 2]],
  ['flash', 'notice', 'Saved'],
]

/**
 * Both packages on the same store and folder, side by side.
 */
async function bootPair(store: 'cookie' | 'file' | 'memory', location: string) {
  const official = await createOfficialTestApp({
    session: officialDefineConfig({
      store,
      stores: { cookie: officialStores.cookie(), file: officialStores.file({ location }) },
    }),
    routes: sessionRoutes,
  })
  const satchel = await createTestApp({
    session: defineConfig({
      store,
      stores: { cookie: stores.cookie(), file: stores.file({ location }) },
    }),
    routes: sessionRoutes,
  })
  return {
    official,
    satchel,
    async close() {
      await official.close()
      await satchel.close()
      await rm(location, { recursive: true, force: true })
    },
  }
}

test.group('Compatibility | from @adonisjs/session 7.x to adonis-satchel', () => {
  for (const store of ['cookie', 'file'] as const) {
    test(`read a ${store} store session the official package wrote, with the same cookies`, async ({
      assert,
      cleanup,
    }) => {
      const location = temporaryFolder('compat')
      const { official, satchel, close } = await bootPair(store, location)
      cleanup(close)
      const browser = new CookieClient(official.url)
      const written = (await browser.post('/session/call', { calls: WRITE_CALLS })).json()
      if (store === 'file') {
        assert.isTrue(existsSync(join(location, `${written.sessionId}.txt`)))
      }
      browser.baseUrl = satchel.url
      const read = (await browser.get('/session')).json()
      assert.equal(read.sessionId, written.sessionId)
      assert.isFalse(read.fresh)
      assert.deepEqual(read.values, { user: { id: 7, name: 'Zoë' }, cart: [1, 2] })
      assert.deepEqual(read.flashMessages, { notice: 'Saved' })
    })
  }

  test('read the data of an official memory store session under its id cookie', async ({
    assert,
    cleanup,
  }) => {
    const { official, satchel, close } = await bootPair('memory', temporaryFolder('compat'))
    cleanup(close)
    const browser = new CookieClient(official.url)
    const { sessionId } = (await browser.post('/session/call', { calls: WRITE_CALLS })).json()
    const collection = await official.app.container.make(OfficialSessionCollection)
    const stored = await collection.get(sessionId)
    assert.deepEqual(stored, {
      user: { id: 7, name: 'Zoë' },
      cart: [1, 2],
      __flash__: { notice: 'Saved' },
    })
    await satchel.manager.store().write(sessionId, stored!)
    browser.baseUrl = satchel.url
    const read = (await browser.get('/session')).json()
    assert.equal(read.sessionId, sessionId)
    assert.deepEqual(read.values, { user: { id: 7, name: 'Zoë' }, cart: [1, 2] })
    assert.deepEqual(read.flashMessages, { notice: 'Saved' })
  })
})

test.group('Compatibility | from adonis-satchel back to @adonisjs/session 7.x', () => {
  for (const store of ['cookie', 'file'] as const) {
    test(`let the official package read a ${store} store session adonis-satchel wrote`, async ({
      assert,
      cleanup,
    }) => {
      const location = temporaryFolder('compat')
      const { official, satchel, close } = await bootPair(store, location)
      cleanup(close)
      const browser = new CookieClient(satchel.url)
      const written = (await browser.post('/session/call', { calls: WRITE_CALLS })).json()
      browser.baseUrl = official.url
      const read = (await browser.get('/session')).json()
      assert.equal(read.sessionId, written.sessionId)
      assert.isFalse(read.fresh)
      assert.deepEqual(read.values, { user: { id: 7, name: 'Zoë' }, cart: [1, 2] })
      assert.deepEqual(read.flashMessages, { notice: 'Saved' })
    })
  }
})
