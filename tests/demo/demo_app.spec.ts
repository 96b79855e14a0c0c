import { test } from '@japa/runner'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { chromiumMissingReason, launchChromium } from '../../tests_helpers/chromium.js'
import { startDemo, type DemoServer } from './demo_server.js'

const missingChromium = chromiumMissingReason()
const APP_KEY = 'demo-tests-app-key-0123456789abcdef'

/**
 * Fill and send the sign-in form of the demo.
 */
async function signIn(page: Page, demo: DemoServer, email: string, password: string) {
  await page.goto(`${demo.url}/sign-in`)
  await page.fill('#email', email)
  await page.fill('#password', password)
  await Promise.all([page.waitForURL(/./), page.click('[data-test=submit]')])
}

/**
 * The texts of the elements a selector matches.
 */
function texts(page: Page, selector: string) {
  return page.locator(selector).allTextContents()
}

test.group('demo app with the file store', (group) => {
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

  test('show the errors and keep the email after a failed sign-in', async ({ assert }) => {
    const page = await newDevice()
    await signIn(page, demo, 'not-an-email', 'short')
    assert.equal(new URL(page.url()).pathname, '/sign-in')
    assert.deepEqual(await texts(page, '[data-test=email-error]'), [
      'The email field must be a valid email address',
    ])
    assert.deepEqual(await texts(page, '[data-test=password-error]'), [
      'The password field must have at least 8 characters',
    ])
    assert.equal(await page.inputValue('#email'), 'not-an-email')
    assert.equal(await page.inputValue('#password'), '')
  }).skip(!!missingChromium, missingChromium)

  test('say the credentials are wrong and keep the email', async ({ assert }) => {
    const page = await newDevice()
    await signIn(page, demo, 'demo@example.com', 'wrong-password')
    assert.deepEqual(await texts(page, '[data-test=credentials-error]'), [
      'The email or the password is wrong.',
    ])
    assert.equal(await page.inputValue('#email'), 'demo@example.com')
    await page.reload()
    assert.deepEqual(await texts(page, '[data-test=credentials-error]'), [])
  }).skip(!!missingChromium, missingChromium)

  test('show a flash notification after signing in that is gone on reload', async ({ assert }) => {
    const page = await newDevice()
    await signIn(page, demo, 'demo@example.com', 'secret-password')
    assert.equal(new URL(page.url()).pathname, '/')
    assert.deepEqual(await texts(page, '[data-test=notification]'), ['Welcome back, Demo User!'])
    assert.deepEqual(await texts(page, '[data-test=signed-in-as]'), ['demo@example.com'])
    await page.reload()
    assert.deepEqual(await texts(page, '[data-test=notification]'), [])
    assert.deepEqual(await texts(page, '[data-test=signed-in-as]'), ['demo@example.com'])
  }).skip(!!missingChromium, missingChromium)

  test('count the visits of the home page in the session', async ({ assert }) => {
    const page = await newDevice()
    await page.goto(demo.url)
    assert.match((await texts(page, '[data-test=visits]'))[0], /opened this page 1 time in/)
    await page.reload()
    assert.match((await texts(page, '[data-test=visits]'))[0], /opened this page 2 times in/)
    assert.deepEqual(await texts(page, '[data-test=store]'), ['file'])
  }).skip(!!missingChromium, missingChromium)

  test('list both devices of a user and sign out the other one', async ({ assert }) => {
    const laptop = await newDevice()
    const phone = await newDevice()
    await signIn(laptop, demo, 'ada@example.com', 'analytical-engine')
    await signIn(phone, demo, 'ada@example.com', 'analytical-engine')

    await laptop.goto(`${demo.url}/devices`)
    assert.lengthOf(await texts(laptop, '[data-test=device]'), 2)
    assert.lengthOf(await texts(laptop, '[data-test=device].current'), 1)
    assert.include((await texts(laptop, '[data-test=device].current'))[0], '127.0.0.1')

    await Promise.all([laptop.waitForURL(/devices/), laptop.click('[data-test=sign-out-others]')])
    assert.deepEqual(await texts(laptop, '[data-test=notification]'), [
      'Signed out 1 other device.',
    ])
    assert.lengthOf(await texts(laptop, '[data-test=device]'), 1)

    await phone.goto(`${demo.url}/devices`)
    assert.equal(new URL(phone.url()).pathname, '/sign-in')
    assert.deepEqual(await texts(phone, '[data-test=notification]'), [
      'Sign in to see your devices.',
    ])
  }).skip(!!missingChromium, missingChromium)

  test('sign out ends the session on the server', async ({ assert }) => {
    const page = await newDevice()
    await signIn(page, demo, 'demo@example.com', 'secret-password')
    const signedInCookies = await page.context().cookies()
    const filesBefore = await demo.sessionFiles()

    await Promise.all([page.waitForURL(/./), page.click('[data-test=sign-out]')])
    assert.deepEqual(await texts(page, '[data-test=notification]'), ['You signed out.'])
    assert.deepEqual(await texts(page, '[data-test=signed-in-as]'), [])

    const filesAfter = await demo.sessionFiles()
    assert.lengthOf(
      filesBefore.filter((file) => !filesAfter.includes(file)),
      1
    )

    const replay = await newDevice()
    await replay.context().addCookies(signedInCookies)
    await replay.goto(`${demo.url}/devices`)
    assert.equal(new URL(replay.url()).pathname, '/sign-in')
  }).skip(!!missingChromium, missingChromium)

  test('go back to the page that asked for a sign-in', async ({ assert }) => {
    const page = await newDevice()
    await page.goto(`${demo.url}/devices`)
    assert.equal(new URL(page.url()).pathname, '/sign-in')
    await page.fill('#email', 'demo@example.com')
    await page.fill('#password', 'secret-password')
    await Promise.all([page.waitForURL(/devices/), page.click('[data-test=submit]')])
    assert.equal(new URL(page.url()).pathname, '/devices')
  }).skip(!!missingChromium, missingChromium)
})

test.group('demo app with the cookie store', (group) => {
  let demo: DemoServer
  let browser: Browser

  group.setup(async () => {
    if (!missingChromium) {
      ;[demo, browser] = await Promise.all([
        startDemo({ SESSION_DRIVER: 'cookie', APP_KEY }),
        launchChromium(),
      ])
    }
  })

  group.teardown(async () => {
    await browser?.close()
    await demo?.stop()
  })

  test('say that the cookie store cannot list sessions', async ({ assert, cleanup }) => {
    const context = await browser.newContext()
    cleanup(() => context.close())
    const page = await context.newPage()
    await signIn(page, demo, 'demo@example.com', 'secret-password')
    assert.deepEqual(await texts(page, '[data-test=notification]'), ['Welcome back, Demo User!'])
    await page.goto(`${demo.url}/devices`)
    assert.match(
      (await texts(page, '[data-test=tagging-unsupported]'))[0],
      /The cookie store cannot list sessions/
    )
    assert.deepEqual(await demo.sessionFiles(), [])
  }).skip(!!missingChromium, missingChromium)
})
