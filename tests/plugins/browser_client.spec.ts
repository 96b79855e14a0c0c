import { test } from '@japa/runner'
import type { Browser, BrowserContext } from 'playwright-core'
import type { Router } from '@adonisjs/core/http'
import { decorateBrowser, decoratorsCollection } from '@japa/browser-client'
import { createTestApp, type TestApp } from '../../tests_helpers/index.js'
import { chromiumMissingReason, launchChromium } from '../../tests_helpers/chromium.js'
import { defineConfig, stores } from '../../index.js'
import { sessionBrowserClient } from '../../src/plugins/japa/browser_client.js'

const missingChromium = chromiumMissingReason()

/**
 * Routes that show and change the session, as JSON pages.
 */
function routes(router: Router) {
  router.get('/read', ({ session }) => ({
    values: session.all(),
    flash: session.flashMessages.all(),
  }))
  router.get('/write', ({ session }) => {
    session.put('visits', 1)
    session.flash('notification', 'Saved')
    return { written: true }
  })
}

test.group('sessionBrowserClient', (group) => {
  let browser: Browser
  let testApp: TestApp

  group.setup(async () => {
    if (!missingChromium) {
      testApp = await createTestApp({
        session: defineConfig({ store: 'cookie', stores: { cookie: stores.cookie() } }),
        routes,
      })
      await sessionBrowserClient(testApp.app, { baseURL: testApp.url })({} as any)
      browser = decorateBrowser(await launchChromium(), decoratorsCollection.toList())
    }
  })

  group.teardown(async () => {
    await browser?.close()
    await testApp?.close()
  })

  /**
   * What a page of the app shows as JSON.
   */
  async function visitJson(context: BrowserContext, path: string) {
    const page = context.pages()[0] ?? (await context.newPage())
    await page.goto(`${testApp.url}${path}`)
    return JSON.parse((await page.textContent('body'))!)
  }

  test('switch the app to the memory store', async ({ assert }) => {
    assert.equal(testApp.manager.storeName, 'memory')
  }).skip(!!missingChromium, missingChromium)

  test('show the values given to setSession to the app', async ({ assert, cleanup }) => {
    const context = await browser.newContext()
    cleanup(() => context.close())
    await context.setSession({ cart: [1, 2] })
    await context.setSession({ user: { id: 3 } })
    const page = await visitJson(context, '/read')
    assert.deepEqual(page.values, { cart: [1, 2], user: { id: 3 } })
  }).skip(!!missingChromium, missingChromium)

  test('show setFlashMessages to the next request only', async ({ assert, cleanup }) => {
    const context = await browser.newContext()
    cleanup(() => context.close())
    await context.setFlashMessages({ notice: 'Welcome' })
    assert.deepEqual((await visitJson(context, '/read')).flash, { notice: 'Welcome' })
    assert.deepEqual((await visitJson(context, '/read')).flash, {})
  }).skip(!!missingChromium, missingChromium)

  test('read the values and flash messages the app stored', async ({ assert, cleanup }) => {
    const context = await browser.newContext()
    cleanup(() => context.close())
    assert.deepEqual(await context.getSession(), {})
    await visitJson(context, '/write')
    assert.deepEqual(await context.getSession(), { visits: 1 })
    assert.deepEqual(await context.getFlashMessages(), { notification: 'Saved' })
  }).skip(!!missingChromium, missingChromium)

  test('add to the session the app started instead of replacing it', async ({
    assert,
    cleanup,
  }) => {
    const context = await browser.newContext()
    cleanup(() => context.close())
    await visitJson(context, '/write')
    await context.setSession({ cart: [4] })
    assert.deepEqual((await visitJson(context, '/read')).values, { visits: 1, cart: [4] })
  }).skip(!!missingChromium, missingChromium)

  test('set a signed, HttpOnly id cookie scoped to the app', async ({ assert, cleanup }) => {
    const context = await browser.newContext()
    cleanup(() => context.close())
    await context.setSession({ cart: [1] })
    const [cookie] = await context.cookies()
    assert.equal(cookie.name, 'adonis_session')
    assert.equal(cookie.domain, '127.0.0.1')
    assert.isTrue(cookie.httpOnly)
    assert.equal(cookie.sameSite, 'Lax')
    assert.equal(context.sessionClient.readSessionId(cookie.value), context.sessionClient.sessionId)
  }).skip(!!missingChromium, missingChromium)

  test('end the session when the context closes', async ({ assert }) => {
    const context = await browser.newContext()
    await context.setSession({ cart: [1] })
    const sessionId = context.sessionClient.sessionId
    assert.isNotNull(await testApp.manager.read(sessionId))
    await context.close()
    assert.isNull(await testApp.manager.read(sessionId))
  }).skip(!!missingChromium, missingChromium)

  test('say how to fix an unknown app address', async ({ assert, cleanup }) => {
    const saved = { HOST: process.env.HOST, PORT: process.env.PORT }
    delete process.env.HOST
    delete process.env.PORT
    await sessionBrowserClient(testApp.app)({} as any)
    cleanup(async () => {
      for (const [name, value] of Object.entries(saved)) {
        if (value !== undefined) process.env[name] = value
      }
      await sessionBrowserClient(testApp.app, { baseURL: testApp.url })({} as any)
    })
    const context = await browser.newContext()
    cleanup(() => context.close())
    await assert.rejects(
      () => context.setSession({ cart: [1] }),
      'Cannot use the Japa session plugins: the browser plugin cannot tell where the app runs. Set the HOST and PORT env variables or pass { baseURL } to sessionBrowserClient(app, { baseURL })'
    )
  }).skip(!!missingChromium, missingChromium)
})
