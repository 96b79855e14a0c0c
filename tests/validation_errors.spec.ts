import { test } from '@japa/runner'
import vine from '@vinejs/vine'
import { createTestApp, CookieClient, type TestApp } from '../tests_helpers/index.js'
import { defineConfig, stores } from '../index.js'
import { flashesLegacyErrorsKey, redirectBackLocation } from '../tests_helpers/framework.js'

/**
 * A sign-up form validated with VineJS, with nested and array fields.
 */
const signupValidator = vine.compile(
  vine.object({
    email: vine.string().email(),
    password: vine.string().minLength(12).confirmed(),
    user: vine.object({ nickname: vine.string().minLength(3), password: vine.string() }).optional(),
    contacts: vine.array(vine.object({ email: vine.string().email() })).optional(),
    otp: vine.string().optional(),
    card: vine.object({ number: vine.string(), holder: vine.string() }).optional(),
  })
)

const SUMMARY = 'The form could not be saved. Please check the errors below.'

/**
 * A real app with the app's own exception handler (extending the core one),
 * VineJS, and routes to submit the form and read what was flashed.
 */
async function formApp(extra: { neverFlash?: string[] } = {}) {
  return createTestApp({
    session: defineConfig({
      store: 'memory',
      stores: { memory: stores.memory() },
      skip: ['/open'],
      ...extra,
    }),
    providers: [() => import('@adonisjs/core/providers/vinejs_provider')],
    routes: async (router, app) => {
      const server = await app.container.make('server')
      server.errorHandler(() => import('./fixtures/app_exception_handler.js'))
      router.post('/signup', async ({ request }) => {
        await request.validateUsing(signupValidator)
        return 'created'
      })
      router.post('/open', async ({ request }) => {
        await request.validateUsing(signupValidator)
        return 'created'
      })
      router.post('/translated', async (ctx) => {
        Object.assign(ctx, {
          i18n: {
            t: (key: string, data: { count: number }) => `${key} (${data.count} errors)`,
          },
        })
        await ctx.request.validateUsing(signupValidator)
      })
      router.get('/flash', ({ session }) => session.flashMessages.all())
    },
  })
}

/**
 * Submit the sign-up form as a browser does (urlencoded, Accept: text/html).
 */
function submit(browser: CookieClient, form: Record<string, string>, headers = {}) {
  return browser.request('/signup', {
    method: 'POST',
    form,
    headers: { accept: 'text/html,application/xhtml+xml', ...headers },
  })
}

test.group('validation errors hook', (group) => {
  let app: TestApp

  group.setup(async () => {
    app = await formApp()
    return () => app.close()
  })

  test('an html form with invalid input is flashed and redirected back to the referer', async ({
    assert,
  }) => {
    const browser = new CookieClient(app.url)
    const response = await submit(
      browser,
      {
        'email': 'not-an-email',
        'password': 'short',
        'password_confirmation': 'other',
        'user[nickname]': 'al',
        'user[password]': 'nested-secret',
        '_csrf': 'csrf-token',
        '_method': 'PUT',
      },
      { referer: `${app.url}/signup?plan=pro` }
    )
    assert.equal(response.status, 302)
    assert.equal(
      response.headers.get('location'),
      redirectBackLocation(`${app.url}/signup?plan=pro`)
    )
    assert.equal(response.headers.get('x-app-exception-handler'), 'handled')

    const flash = (await browser.get('/flash')).json()
    assert.deepEqual(flash.errorsBag, { E_VALIDATION_ERROR: SUMMARY })
    assert.deepEqual(Object.keys(flash.inputErrorsBag).sort(), [
      'email',
      'password',
      'user.nickname',
    ])
    assert.deepEqual(flash.inputErrorsBag.email, ['The email field must be a valid email address'])
    assert.deepEqual(flash.inputErrorsBag.password, [
      'The password field must have at least 12 characters',
    ])
    if (flashesLegacyErrorsKey) {
      assert.deepEqual(flash.errors, flash.inputErrorsBag)
    } else {
      assert.notProperty(flash, 'errors')
    }
    assert.equal(flash.email, 'not-an-email')
    assert.deepEqual(flash.user, { nickname: 'al' })
    for (const secret of ['password', 'password_confirmation', '_csrf', '_method']) {
      assert.notProperty(flash, secret)
    }
    assert.notInclude(JSON.stringify(flash), 'nested-secret')

    assert.deepEqual((await browser.get('/flash')).json(), {})
  })

  test('without a referer, or with one from another site, the redirect goes to /', async ({
    assert,
  }) => {
    const browser = new CookieClient(app.url)
    assert.equal((await submit(browser, { email: 'x' })).headers.get('location'), '/')
    const foreign = await submit(browser, { email: 'x' }, { referer: 'https://evil.example/form' })
    assert.equal(foreign.status, 302)
    assert.equal(foreign.headers.get('location'), '/')
  })

  test('requests that accept json keep the core 422 with the errors and flash nothing', async ({
    assert,
  }) => {
    const browser = new CookieClient(app.url)
    const response = await browser.request('/signup', {
      method: 'POST',
      body: { email: 'not-an-email', password: 'short' },
      headers: { accept: 'application/json' },
    })
    assert.equal(response.status, 422)
    const fields = response.json().errors.map((error: { field: string }) => error.field)
    assert.includeMembers(fields, ['email', 'password'])
    assert.deepEqual((await browser.get('/flash')).json(), {})
  })

  test('json:api requests keep the core 422 error objects and flash nothing', async ({
    assert,
  }) => {
    const browser = new CookieClient(app.url)
    const response = await browser.request('/signup', {
      method: 'POST',
      body: { email: 'not-an-email', password: 'a-long-enough-password' },
      headers: { accept: 'application/vnd.api+json' },
    })
    assert.equal(response.status, 422)
    const [first] = response.json().errors
    assert.equal(first.source.pointer, 'email')
    assert.equal(first.code, 'email')
    assert.deepEqual((await browser.get('/flash')).json(), {})
  })

  test('inertia requests get the errors flashed but not the input', async ({ assert }) => {
    const browser = new CookieClient(app.url)
    const response = await submit(
      browser,
      { email: 'not-an-email', password: 'short', nickname: 'kept?' },
      { 'x-inertia': 'true', 'referer': `${app.url}/signup` }
    )
    assert.equal(response.status, 302)
    assert.equal(response.headers.get('location'), redirectBackLocation(`${app.url}/signup`))
    const flash = (await browser.get('/flash')).json()
    assert.properties(flash.inputErrorsBag, ['email', 'password'])
    assert.deepEqual(flash.errorsBag, { E_VALIDATION_ERROR: SUMMARY })
    assert.notProperty(flash, 'email')
    assert.notProperty(flash, 'nickname')
  })

  test('errors of array items are grouped by their full field path', async ({ assert }) => {
    const browser = new CookieClient(app.url)
    await submit(browser, {
      'email': 'a@b.co',
      'password': 'a-long-enough-password',
      'password_confirmation': 'a-long-enough-password',
      'contacts[0][email]': 'ok@example.com',
      'contacts[1][email]': 'broken',
    })
    const flash = (await browser.get('/flash')).json()
    assert.deepEqual(Object.keys(flash.inputErrorsBag), ['contacts.1.email'])
    assert.deepEqual(flash.contacts, [{ email: 'ok@example.com' }, { email: 'broken' }])
  })

  test('a route without a session keeps the core html response', async ({ assert }) => {
    const browser = new CookieClient(app.url)
    const response = await browser.request('/open', {
      method: 'POST',
      form: { email: 'not-an-email' },
      headers: { accept: 'text/html' },
    })
    assert.equal(response.status, 422)
    assert.include(response.text, 'email - The email field must be a valid email address')
    assert.deepEqual(response.setCookies, [])
  })

  test('the summary is translated when the request has @adonisjs/i18n', async ({ assert }) => {
    const browser = new CookieClient(app.url)
    const response = await browser.request('/translated', {
      method: 'POST',
      form: { email: 'x' },
      headers: { accept: 'text/html' },
    })
    assert.equal(response.status, 302)
    const flash = (await browser.get('/flash')).json()
    assert.deepEqual(flash.errorsBag, {
      E_VALIDATION_ERROR: 'errors.E_VALIDATION_ERROR (2 errors)',
    })
  })

  test('neverFlash replaces the list of fields never flashed, dot paths included', async ({
    assert,
    cleanup,
  }) => {
    const custom = await formApp({
      neverFlash: ['password', 'password_confirmation', 'otp', 'card.number'],
    })
    cleanup(() => custom.close())
    const browser = new CookieClient(custom.url)
    await submit(browser, {
      'email': 'not-an-email',
      'password': 'short',
      'otp': '123456',
      'card[number]': '4242424242424242',
      'card[holder]': 'Ada',
      '_csrf': 'flashed-now',
    })
    const flash = (await browser.get('/flash')).json()
    assert.notProperty(flash, 'otp')
    assert.notProperty(flash, 'password')
    assert.deepEqual(flash.card, { holder: 'Ada' })
    assert.notInclude(JSON.stringify(flash), '4242424242424242')
    assert.equal(flash._csrf, 'flashed-now')
  })
})
