import { test } from '@japa/runner'
import { AppFactory } from '@adonisjs/core/factories/app'
import { LoggerFactory } from '@adonisjs/core/factories/logger'
import { Emitter } from '@adonisjs/core/events'
import { defineConfig } from '@adonisjs/lucid'
import { Database } from '@adonisjs/lucid/database'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { chromiumMissingReason, launchChromium } from '../../tests_helpers/chromium.js'
import { CookieClient } from '../../tests_helpers/index.js'
import { startDemo, type DemoServer } from './demo_server.js'
import { screenshotForDocs } from './screenshots.js'

const missingChromium = chromiumMissingReason()
const APP_KEY = 'demo-tests-app-key-0123456789abcdef'

/** The demo's session id cookie and the remember-me cookie of its "web" guard. */
const SESSION_COOKIE = 'adonis-session'
const REMEMBER_ME_COOKIE = 'remember_web'

/**
 * A device of the demo over HTTP: a cookie jar that signs in with the form.
 */
class Device extends CookieClient {
  /** Send the sign-in form as Ada, with "remember me" when asked. */
  signIn(remember: boolean) {
    return this.request('/sign-in', {
      method: 'POST',
      form: {
        email: 'ada@example.com',
        password: 'analytical-engine',
        ...(remember ? { remember: '1' } : {}),
      },
    })
  }

  /** Where a request lands: 200 on the page, or the path it is redirected to. */
  async open(path: string): Promise<{ status: number; location?: string; html: string }> {
    const response = await this.get(path)
    const location = response.headers.get('location')
    return {
      status: response.status,
      location: location ? new URL(location, this.baseUrl).pathname : undefined,
      html: response.text,
    }
  }

  /** Forget the session cookie, as a browser does when it is closed or it expires. */
  dropSessionCookie() {
    this.jar.delete(SESSION_COOKIE)
  }
}

/** How many rows of the devices page's table a page holds. */
function countRows(html: string, dataTest: string, current = false): number {
  const row = current ? `class="current" data-test="${dataTest}"` : `data-test="${dataTest}"`
  return html.split(row).length - 1
}

/**
 * The demo's SQLite database, opened beside the running demo to check what
 * it holds.
 */
function openDemoDatabase(demo: DemoServer): Database {
  const app = new AppFactory().create(new URL('../../tmp/', import.meta.url))
  const config = defineConfig({
    connection: 'sqlite',
    connections: {
      sqlite: {
        client: 'better-sqlite3',
        connection: { filename: demo.databaseFile },
        useNullAsDefault: true,
      },
    },
  })
  return new Database(config, new LoggerFactory().create(), new Emitter<any>(app))
}

/** How many remember-me tokens the demo's database holds for Ada. */
async function rememberMeTokensOfAda(db: Database): Promise<number> {
  const rows = await db
    .from('remember_me_tokens')
    .join('users', 'users.id', 'remember_me_tokens.tokenable_id')
    .where('users.email', 'ada@example.com')
    .select('remember_me_tokens.id')
  return rows.length
}

/**
 * Sign out every device of Ada that earlier tests left, from a device of her
 * own that then signs out too: her sessions and remember-me tokens are gone.
 */
async function signOutEveryDeviceOfAda(demo: DemoServer) {
  const cleaner = new Device(demo.url)
  await cleaner.signIn(false)
  await cleaner.request('/devices/sign-out-others', { method: 'POST' })
  await cleaner.request('/sign-out', { method: 'POST' })
}

test.group('demo devices panel with @adonisjs/auth over HTTP', (group) => {
  let demo: DemoServer
  let db: Database

  group.setup(async () => {
    demo = await startDemo({ APP_KEY })
    db = openDemoDatabase(demo)
    return async () => {
      await db.manager.closeAll()
      await demo.stop()
    }
  })

  group.each.setup(() => signOutEveryDeviceOfAda(demo))

  test('list both remembered devices with their sessions and remember-me tokens', async ({
    assert,
  }) => {
    const laptop = new Device(demo.url)
    const phone = new Device(demo.url)
    await laptop.signIn(true)
    await phone.signIn(true)

    const { status, html } = await laptop.open('/devices')
    assert.equal(status, 200)
    assert.equal(countRows(html, 'device'), 2)
    assert.equal(countRows(html, 'device', true), 1)
    assert.equal(countRows(html, 'remember-me-token'), 2)
    assert.equal(countRows(html, 'remember-me-token', true), 1)
    assert.equal(await rememberMeTokensOfAda(db), 2)
  })

  test('sign out a remembered device for good: its session ends and its token is revoked', async ({
    assert,
  }) => {
    const laptop = new Device(demo.url)
    const phone = new Device(demo.url)
    await laptop.signIn(true)
    await phone.signIn(true)

    await laptop.request('/devices/sign-out-others', { method: 'POST' })
    const { html } = await laptop.open('/devices')
    assert.include(html, 'Signed out 1 other device and revoked 1 remember-me token.')
    assert.equal(countRows(html, 'device'), 1)
    assert.equal(countRows(html, 'remember-me-token', true), 1)
    assert.equal(await rememberMeTokensOfAda(db), 1)

    assert.deepInclude(await phone.open('/devices'), { status: 302, location: '/sign-in' })
    phone.dropSessionCookie()
    assert.isTrue(phone.jar.has(REMEMBER_ME_COOKIE))
    assert.deepInclude(await phone.open('/devices'), { status: 302, location: '/sign-in' })
  })

  test('keep the remember-me token of the device that signed the others out', async ({
    assert,
  }) => {
    const laptop = new Device(demo.url)
    const phone = new Device(demo.url)
    await laptop.signIn(true)
    await phone.signIn(true)
    await laptop.request('/devices/sign-out-others', { method: 'POST' })

    laptop.dropSessionCookie()
    assert.deepInclude(await laptop.open('/devices'), { status: 302, location: '/devices' })
    const { status, html } = await laptop.open('/devices')
    assert.equal(status, 200)
    assert.equal(countRows(html, 'device', true), 1)
    assert.equal(countRows(html, 'remember-me-token', true), 1)
    assert.equal(await rememberMeTokensOfAda(db), 1)
  })

  test('tag the session auth restores from a remember-me token, so it is listed', async ({
    assert,
  }) => {
    const phone = new Device(demo.url)
    await phone.signIn(true)
    const signedInSession = phone.jar.get(SESSION_COOKIE)
    phone.dropSessionCookie()

    assert.deepInclude(await phone.open('/devices'), { status: 302, location: '/devices' })
    assert.notEqual(phone.jar.get(SESSION_COOKIE), signedInSession)

    const { html } = await phone.open('/devices')
    assert.equal(countRows(html, 'device', true), 1)
    assert.equal(countRows(html, 'device'), 2)
  })

  test('sign out revokes the remember-me token of the device', async ({ assert }) => {
    const phone = new Device(demo.url)
    await phone.signIn(true)
    const rememberMeCookie = phone.jar.get(REMEMBER_ME_COOKIE)!
    await phone.request('/sign-out', { method: 'POST' })
    assert.isFalse(phone.jar.has(REMEMBER_ME_COOKIE))
    assert.equal(await rememberMeTokensOfAda(db), 0)

    const replay = new Device(demo.url)
    replay.jar.set(REMEMBER_ME_COOKIE, rememberMeCookie)
    assert.deepInclude(await replay.open('/devices'), { status: 302, location: '/sign-in' })
  })

  test('sign in without remember me leaves no remember-me token', async ({ assert }) => {
    const laptop = new Device(demo.url)
    await laptop.signIn(false)
    assert.isFalse(laptop.jar.has(REMEMBER_ME_COOKIE))
    assert.equal(await rememberMeTokensOfAda(db), 0)
    assert.include((await laptop.open('/devices')).html, 'No device signed in with "Remember me".')
  })
})

test.group('demo devices panel with @adonisjs/auth in Chromium', (group) => {
  let demo: DemoServer
  let browser: Browser
  let contexts: BrowserContext[] = []

  group.setup(async () => {
    if (!missingChromium) {
      ;[demo, browser] = await Promise.all([startDemo({ APP_KEY }), launchChromium()])
    }
  })

  group.teardown(async () => {
    await browser?.close()
    await demo?.stop()
  })

  group.each.setup(async () => {
    if (!missingChromium) await signOutEveryDeviceOfAda(demo)
  })

  group.each.teardown(async () => {
    await Promise.all(contexts.map((context) => context.close()))
    contexts = []
  })

  /** A new page in a new browser context (a separate device). */
  async function newDevice(): Promise<Page> {
    const context = await browser.newContext()
    contexts.push(context)
    return context.newPage()
  }

  /** Sign in as Ada with "remember me" ticked. */
  async function signInRemembered(page: Page) {
    await page.goto(`${demo.url}/sign-in`)
    await page.fill('#email', 'ada@example.com')
    await page.fill('#password', 'analytical-engine')
    await page.check('[data-test=remember-me]')
    await Promise.all([page.waitForURL(/./), page.click('[data-test=submit]')])
  }

  test('sign out a remembered browser from another one, even once its session cookie is gone', async ({
    assert,
  }) => {
    const laptop = await newDevice()
    const phone = await newDevice()
    await signInRemembered(laptop)
    await signInRemembered(phone)

    await laptop.goto(`${demo.url}/devices`)
    assert.lengthOf(await laptop.locator('[data-test=device]').all(), 2)
    assert.lengthOf(await laptop.locator('[data-test=remember-me-token]').all(), 2)
    assert.deepEqual(
      await laptop
        .locator('[data-test=remember-me-token].current td:first-child')
        .allTextContents(),
      ['This device']
    )
    await screenshotForDocs(laptop.locator('main'), 'devices_remember_me')

    await Promise.all([laptop.waitForURL(/devices/), laptop.click('[data-test=sign-out-others]')])
    assert.deepEqual(await laptop.locator('[data-test=notification]').allTextContents(), [
      'Signed out 1 other device and revoked 1 remember-me token.',
    ])
    assert.lengthOf(await laptop.locator('[data-test=remember-me-token]').all(), 1)

    await phone.context().clearCookies({ name: SESSION_COOKIE })
    assert.deepEqual(
      (await phone.context().cookies()).map((cookie) => cookie.name),
      [REMEMBER_ME_COOKIE]
    )
    await phone.goto(`${demo.url}/devices`)
    assert.equal(new URL(phone.url()).pathname, '/sign-in')
    assert.deepEqual(await phone.locator('[data-test=notification]').allTextContents(), [
      'Sign in to see your devices.',
    ])
  }).skip(!!missingChromium, missingChromium)

  test('bring a remembered browser back into a listed session once its session cookie is gone', async ({
    assert,
  }) => {
    const laptop = await newDevice()
    await signInRemembered(laptop)
    await laptop.context().clearCookies({ name: SESSION_COOKIE })

    await laptop.goto(`${demo.url}/devices`)
    assert.equal(new URL(laptop.url()).pathname, '/devices')
    assert.lengthOf(await laptop.locator('[data-test=device].current').all(), 1)
    assert.lengthOf(await laptop.locator('[data-test=remember-me-token].current').all(), 1)
  }).skip(!!missingChromium, missingChromium)
})
