import { test } from '@japa/runner'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { chromiumMissingReason, launchChromium } from '../../tests_helpers/chromium.js'
import { createEcosystemApp, type EcosystemApp } from '../../tests_helpers/ecosystem/app.js'
import { SESSION_COOKIE } from './helpers.js'

const missingChromium = chromiumMissingReason()

test.group('Ecosystem | auth, shield, inertia and lucid in Chromium', (group) => {
  let app: EcosystemApp
  let browser: Browser
  let contexts: BrowserContext[] = []

  group.each.setup(async () => {
    if (!missingChromium) {
      ;[app, browser] = await Promise.all([createEcosystemApp(), launchChromium()])
    }
    return async () => {
      await Promise.all(contexts.map((context) => context.close()))
      contexts = []
      await browser?.close()
      await app?.close()
    }
  })

  /** A new page in a new browser context (a separate device). */
  async function newDevice(): Promise<{ page: Page; context: BrowserContext }> {
    const context = await browser.newContext()
    contexts.push(context)
    return { page: await context.newPage(), context }
  }

  /** Fill a form of the app and send it, waiting for the page it leads to. */
  async function send(page: Page, path: string, fields: Record<string, string>, remember = false) {
    await page.goto(`${app.url}${path}`)
    for (const [name, value] of Object.entries(fields)) {
      await page.fill(`#${name}`, value)
    }
    if (remember) {
      await page.check('#remember')
    }
    await Promise.all([page.waitForNavigation(), page.click('#submit')])
  }

  /** Click a button of the page and wait for the page it leads to. */
  async function click(page: Page, selector: string) {
    await Promise.all([page.waitForNavigation(), page.click(selector)])
  }

  test('register, logout, login with remember-me, and come back without the session cookie', async ({
    assert,
  }) => {
    const { page, context } = await newDevice()
    await send(page, '/register', { email: 'not-an-email', password: 'short' })
    assert.equal(new URL(page.url()).pathname, '/register')
    assert.equal(await page.inputValue('#email'), 'not-an-email')
    assert.equal(await page.inputValue('#password'), '')
    assert.match((await page.textContent('#email-error')) ?? '', /email/)

    await send(page, '/register', { email: 'ada@example.com', password: 'secret-password' })
    assert.equal(new URL(page.url()).pathname, '/dashboard')
    assert.equal(await page.textContent('#user'), 'ada@example.com')

    await page.goto(`${app.url}/forged`)
    await click(page, '#forged')
    await page.goto(`${app.url}/dashboard`)
    assert.equal(
      await page.textContent('#user'),
      'ada@example.com',
      'a forged token logs nobody out'
    )

    await click(page, '#logout')
    assert.equal(new URL(page.url()).pathname, '/login')
    await page.goto(`${app.url}/dashboard`)
    assert.equal(new URL(page.url()).pathname, '/login')

    await send(page, '/login', { email: 'ada@example.com', password: 'secret-password' }, true)
    assert.equal(await page.textContent('#user'), 'ada@example.com')
    await context.clearCookies({ name: SESSION_COOKIE })
    await page.goto(`${app.url}/dashboard`)
    assert.equal(await page.textContent('#user'), 'ada@example.com', 'remembered')
  }).skip(!!missingChromium, missingChromium)

  test('a skipped route behind shield and auth sets no session cookie', async ({ assert }) => {
    const { page, context } = await newDevice()
    await send(page, '/register', { email: 'ada@example.com', password: 'secret-password' })
    const before = (await context.cookies()).find(({ name }) => name === SESSION_COOKIE)
    await page.goto(`${app.url}/health`)
    assert.deepInclude(JSON.parse((await page.textContent('body'))!), { ok: true, skipped: true })
    const after = (await context.cookies()).find(({ name }) => name === SESSION_COOKIE)
    assert.deepEqual(after, before)
    await page.goto(`${app.url}/dashboard`)
    assert.equal(await page.textContent('#user'), 'ada@example.com')
  }).skip(!!missingChromium, missingChromium)

  test('signing out the other devices keeps remembered devices out', async ({ assert }) => {
    const laptop = await newDevice()
    await send(laptop.page, '/register', {
      email: 'ada@example.com',
      password: 'secret-password',
    })
    const phone = await newDevice()
    const credentials = { email: 'ada@example.com', password: 'secret-password' }
    await send(phone.page, '/login', credentials, true)
    assert.equal(await phone.page.textContent('#user'), 'ada@example.com')

    await click(laptop.page, '#sign-out-others')
    assert.equal(await laptop.page.textContent('#user'), 'ada@example.com')
    await phone.page.reload()
    assert.equal(new URL(phone.page.url()).pathname, '/login')
    assert.isTrue((await phone.context.cookies()).some(({ name }) => name === 'remember_web'))
    await phone.page.goto(`${app.url}/dashboard`)
    assert.equal(new URL(phone.page.url()).pathname, '/login', 'its remember-me token is revoked')
  }).skip(!!missingChromium, missingChromium)
})
