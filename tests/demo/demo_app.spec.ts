import { test } from '@japa/runner'
import { chromiumMissingReason } from '../../tests_helpers/chromium.js'
import {
  demoDevices,
  runParallelWrites,
  signIn,
  signOutOtherDevices,
  submitSignIn,
  texts,
} from '../../tests_helpers/demo_browser.js'
import { redisAnswers, sharedRedis } from '../../tests_helpers/redis_server.js'
import { startDemo } from './demo_server.js'
import { screenshotForDocs } from './screenshots.js'

const missingChromium = chromiumMissingReason()
const APP_KEY = 'demo-tests-app-key-0123456789abcdef'

test.group('demo app with the file store', (group) => {
  const devices = demoDevices(group, () => startDemo({ APP_KEY }), missingChromium)
  const { newDevice } = devices

  test('show the errors and keep the email after a failed sign-in', async ({ assert }) => {
    const page = await newDevice()
    await signIn(page, 'not-an-email', 'short')
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
    await signIn(page, 'demo@example.com', 'wrong-password')
    assert.deepEqual(await texts(page, '[data-test=credentials-error]'), [
      'The email or the password is wrong.',
    ])
    assert.equal(await page.inputValue('#email'), 'demo@example.com')
    await page.reload()
    assert.deepEqual(await texts(page, '[data-test=credentials-error]'), [])
  }).skip(!!missingChromium, missingChromium)

  test('show a flash notification after signing in that is gone on reload', async ({ assert }) => {
    const page = await newDevice()
    await signIn(page, 'demo@example.com', 'secret-password')
    assert.equal(new URL(page.url()).pathname, '/')
    assert.deepEqual(await texts(page, '[data-test=notification]'), ['Welcome back, Demo User!'])
    assert.deepEqual(await texts(page, '[data-test=signed-in-as]'), ['demo@example.com'])
    await page.reload()
    assert.deepEqual(await texts(page, '[data-test=notification]'), [])
    assert.deepEqual(await texts(page, '[data-test=signed-in-as]'), ['demo@example.com'])
  }).skip(!!missingChromium, missingChromium)

  test('count the visits of the home page in the session', async ({ assert }) => {
    const page = await newDevice()
    await page.goto('/')
    assert.match((await texts(page, '[data-test=visits]'))[0], /opened this page 1 time in/)
    await page.reload()
    assert.match((await texts(page, '[data-test=visits]'))[0], /opened this page 2 times in/)
    assert.deepEqual(await texts(page, '[data-test=store]'), ['file'])
  }).skip(!!missingChromium, missingChromium)

  test('list both devices of a user and sign out the other one', async ({ assert }) => {
    const laptop = await newDevice()
    const phone = await newDevice()
    await signIn(laptop, 'ada@example.com', 'analytical-engine')
    await signIn(phone, 'ada@example.com', 'analytical-engine')

    await laptop.goto('/devices')
    assert.lengthOf(await texts(laptop, '[data-test=device]'), 2)
    assert.lengthOf(await texts(laptop, '[data-test=device].current'), 1)
    assert.include((await texts(laptop, '[data-test=device].current'))[0], '127.0.0.1')

    await Promise.all([laptop.waitForURL(/devices/), laptop.click('[data-test=sign-out-others]')])
    assert.deepEqual(await texts(laptop, '[data-test=notification]'), [
      'Signed out 1 other device.',
    ])
    assert.lengthOf(await texts(laptop, '[data-test=device]'), 1)

    await phone.goto('/devices')
    assert.equal(new URL(phone.url()).pathname, '/sign-in')
    assert.match(
      (await texts(phone, '[data-test=notification]'))[0],
      /^You were signed out from another device/
    )
  }).skip(!!missingChromium, missingChromium)

  test('sign out ends the session on the server', async ({ assert }) => {
    const page = await newDevice()
    await signIn(page, 'demo@example.com', 'secret-password')
    const signedInCookies = await page.context().cookies()
    const filesBefore = await devices.demo.sessionFiles()

    await Promise.all([page.waitForURL(/./), page.click('[data-test=sign-out]')])
    assert.deepEqual(await texts(page, '[data-test=notification]'), ['You signed out.'])
    assert.deepEqual(await texts(page, '[data-test=signed-in-as]'), [])

    const filesAfter = await devices.demo.sessionFiles()
    assert.lengthOf(
      filesBefore.filter((file) => !filesAfter.includes(file)),
      1
    )

    const replay = await newDevice()
    await replay.context().addCookies(signedInCookies)
    await replay.goto('/devices')
    assert.equal(new URL(replay.url()).pathname, '/sign-in')
  }).skip(!!missingChromium, missingChromium)

  test('go back to the page that asked for a sign-in', async ({ assert }) => {
    const page = await newDevice()
    await page.goto('/devices')
    assert.equal(new URL(page.url()).pathname, '/sign-in')
    await submitSignIn(page, 'demo@example.com', 'secret-password', /devices/)
    assert.equal(new URL(page.url()).pathname, '/devices')
  }).skip(!!missingChromium, missingChromium)

  test('keep every key written by parallel requests of one session', async ({ assert }) => {
    const page = await newDevice()
    await page.goto('/')
    const { result, lost } = await runParallelWrites(page)
    assert.equal(result, '10 of 10 keys kept.')
    assert.deepEqual(lost, [])
    assert.match(
      (await texts(page, '[data-test=parallel-store-explainer]'))[0],
      /The file store saves only what each request changed/
    )
    await screenshotForDocs(page.locator('main'), 'parallel_writes_file')
  }).skip(!!missingChromium, missingChromium)

  test('show the store in use and how to start the demo with another', async ({ assert }) => {
    const page = await newDevice()
    await page.goto('/')
    assert.deepEqual(await texts(page, '[data-test=current-store]'), ['file'])
    const options = await texts(page, '[data-test=store-option]')
    assert.include(
      options.find((option) => option.includes('SESSION_DRIVER=file'))!,
      '(in use)'
    )
    assert.match(
      options.find((option) => option.includes('SESSION_DRIVER=redis npm run demo'))!,
      /when it runs on REDIS_HOST:REDIS_PORT/
    )
    assert.lengthOf(options, 4)
    await screenshotForDocs(page.locator('[data-test=store-panel]'), 'store')
  }).skip(!!missingChromium, missingChromium)

  test('store a large value on a server store without a cookie limit', async ({ assert }) => {
    const page = await newDevice()
    await page.goto('/cookie-size')
    assert.lengthOf(await texts(page, '[data-test=cookie-size-server-store]'), 1)
    await Promise.all([page.waitForURL(/cookie-size/), page.click('[data-test=store-too-much]')])
    assert.match(
      (await texts(page, '[data-test=notification]'))[0],
      /Stored 5,000 characters in the file store/
    )
  }).skip(!!missingChromium, missingChromium)

  test('tell a device it was signed out from another one on its next request', async ({
    assert,
  }) => {
    const laptop = await newDevice()
    const phone = await newDevice()
    await signIn(laptop, 'ada@example.com', 'analytical-engine')
    await signIn(phone, 'ada@example.com', 'analytical-engine')
    await signOutOtherDevices(laptop)

    await phone.goto('/devices')
    assert.equal(new URL(phone.url()).pathname, '/sign-in')
    assert.match(
      (await texts(phone, '[data-test=notification]'))[0],
      /^You were signed out from another device \(HeadlessChrome\/\d+ on [^,]+, at \d\d:\d\d UTC\)\.$/
    )
    await screenshotForDocs(phone, 'signed_out_elsewhere')

    await phone.reload()
    assert.deepEqual(await texts(phone, '[data-test=notification]'), [])
    await submitSignIn(phone, 'ada@example.com', 'analytical-engine', /devices/)
    assert.equal(new URL(phone.url()).pathname, '/devices')
  }).skip(!!missingChromium, missingChromium)

  test('explain that last seen is refreshed at most once a minute', async ({ assert }) => {
    const laptop = await newDevice()
    const phone = await newDevice()
    await signIn(laptop, 'demo@example.com', 'secret-password')
    await laptop.goto('/devices')
    if (await laptop.locator('[data-test=sign-out-others]').count()) {
      await Promise.all([laptop.waitForURL(/devices/), laptop.click('[data-test=sign-out-others]')])
    }
    await signIn(phone, 'demo@example.com', 'secret-password')
    await laptop.goto('/devices')
    assert.lengthOf(await texts(laptop, '[data-test=device]'), 2)
    const lastSeen = await texts(laptop, '[data-test=device] td:nth-child(4)')
    await laptop.reload()
    assert.deepEqual(await texts(laptop, '[data-test=device] td:nth-child(4)'), lastSeen)
    assert.match(
      (await texts(laptop, '[data-test=last-seen-explained]'))[0],
      /Last seen\s+is refreshed at most once a minute/
    )
    await screenshotForDocs(laptop.locator('main'), 'devices')
  }).skip(!!missingChromium, missingChromium)
})

test.group('demo app with the cookie store', (group) => {
  const devices = demoDevices(
    group,
    () => startDemo({ SESSION_DRIVER: 'cookie', APP_KEY }),
    missingChromium
  )
  const { newDevice } = devices

  test('say that the cookie store cannot list sessions', async ({ assert }) => {
    const page = await newDevice()
    await signIn(page, 'demo@example.com', 'secret-password')
    assert.deepEqual(await texts(page, '[data-test=notification]'), ['Welcome back, Demo User!'])
    await page.goto('/devices')
    assert.match(
      (await texts(page, '[data-test=tagging-unsupported]'))[0],
      /The cookie store cannot list sessions/
    )
    assert.deepEqual(await devices.demo.sessionFiles(), [])
  }).skip(!!missingChromium, missingChromium)

  test('lose keys of parallel requests and say why the cookie store cannot keep them', async ({
    assert,
  }) => {
    const page = await newDevice()
    const { result, lost } = await runParallelWrites(page)
    const kept = Number(/^(\d+) of 10 keys kept\.$/.exec(result)?.[1])
    assert.isBelow(kept, 10)
    assert.lengthOf(lost, 10 - kept)
    assert.match(
      (await texts(page, '[data-test=parallel-cookie-explainer]'))[0],
      /The cookie store cannot promise this\./
    )
    await screenshotForDocs(page.locator('main'), 'parallel_writes_cookie')
  }).skip(!!missingChromium, missingChromium)

  test('refuse a session over 4 KB with a clear error and keep the old cookie', async ({
    assert,
  }) => {
    const page = await newDevice()
    await page.goto('/')
    await page.goto('/cookie-size')
    const [response] = await Promise.all([
      page.waitForResponse((candidate) => candidate.request().method() === 'POST'),
      page.click('[data-test=store-too-much]'),
    ])
    assert.equal(response.status(), 500)
    await page.waitForLoadState()
    assert.deepEqual(await texts(page, '[data-test=error-code]'), ['E_SESSION_COOKIE_TOO_LARGE'])
    assert.match(
      (await texts(page, '[data-test=error-message]'))[0],
      /^The session data cookie is \d+ bytes, over the 4096 bytes browsers keep\./
    )
    await screenshotForDocs(page, 'cookie_too_large')

    await page.goto('/')
    assert.match((await texts(page, '[data-test=visits]'))[0], /opened this page 2 times in/)
  }).skip(!!missingChromium, missingChromium)
})

/**
 * Why the demo cannot run on Redis here, or undefined. Under CI=true a
 * missing Redis is an error, never a skip.
 */
async function redisMissingReason(): Promise<string | undefined> {
  if (missingChromium) return missingChromium
  if (await redisAnswers(sharedRedis.host, sharedRedis.port)) return undefined
  const reason = `nothing answers on Redis ${sharedRedis.host}:${sharedRedis.port}`
  if (process.env.CI === 'true') throw new Error(`${reason} (CI=true: no skips)`)
  console.warn(`\n  SKIPPING the demo on the redis store: ${reason}\n`)
  return reason
}
const missingRedis = await redisMissingReason()

test.group('demo app with the redis store', (group) => {
  const { newDevice } = demoDevices(
    group,
    () =>
      startDemo({
        SESSION_DRIVER: 'redis',
        APP_KEY,
        REDIS_HOST: sharedRedis.host,
        REDIS_PORT: String(sharedRedis.port),
      }),
    missingRedis
  )

  test('run on redis and keep every key written by parallel requests', async ({ assert }) => {
    const page = await newDevice()
    await page.goto('/')
    assert.deepEqual(await texts(page, '[data-test=current-store]'), ['redis'])
    const { result, lost } = await runParallelWrites(page)
    assert.equal(result, '10 of 10 keys kept.')
    assert.deepEqual(lost, [])
  }).skip(!!missingRedis, missingRedis)
})
