import { test } from '@japa/runner'
import type { Router } from '@adonisjs/core/http'
import vine from '@vinejs/vine'
import {
  bootSecurityApp,
  sessionIdOf,
  type SecurityApp,
  type SecurityAppOptions,
} from './helpers.js'

/**
 * Field names that are members of `Object.prototype`.
 */
const PROTOTYPE_MEMBER_NAMES = ['toString', 'valueOf', 'constructor', '__proto__', 'hasOwnProperty']

/**
 * A form whose one field, `name`, must hold at least five characters; the
 * page renders the field's errors with `@inputError` and its old value.
 */
const FIELD_TEMPLATE = [
  '@inputError(field)',
  'errors=[{{ $messages.join("|") }}]',
  '@end',
  'old=[{{ old(field, "") }}]',
].join('\n')

let templateRegistered = false

/**
 * Register the form page template once.
 */
async function registerFieldTemplate() {
  const { default: edge } = await import('edge.js')
  if (!templateRegistered) {
    edge.registerTemplate('security_field_form', { template: FIELD_TEMPLATE })
    templateRegistered = true
  }
}

/**
 * POST /field/:name validates a one-field form named `name`; GET /field/:name
 * renders its page.
 */
function fieldRoutes(router: Router) {
  router.post('/field/:name', async ({ request, params }) => {
    const validator = vine.compile(vine.object({ [params.name]: vine.string().minLength(5) }))
    await validator.validate(request.all())
    return { ok: true }
  })
  router.get('/field/:name', ({ view, params }: any) =>
    view.render('security_field_form', { field: params.name })
  )
}

/**
 * POST /signup fails unless `email` is an email address (any other field is
 * accepted); GET /flash answers the flash messages it left.
 */
function signupRoutes(router: Router) {
  const signup = vine.compile(vine.object({ email: vine.string().email() }))
  router.post('/signup', async ({ request }) => {
    await signup.validate(request.all())
    return { ok: true }
  })
  router.get('/flash', ({ session }) => session.flashMessages.all())
}

/**
 * An app on `store` with the sign-up form of `signupRoutes` and the core
 * exception handler, closed when the test ends.
 */
async function signupApp(
  cleanup: (close: () => Promise<void>) => void,
  store: string,
  session?: SecurityAppOptions['session']
) {
  const app = await bootSecurityApp({
    store,
    withExceptionHandler: true,
    routes: signupRoutes,
    session,
  })
  cleanup(() => app.close())
  return app
}

/**
 * Submit a failing sign-up form as a browser does (Accept: text/html); JSON
 * bodies reach nested keys that urlencoded forms write as `user[password]`.
 * `stored()` reads the session as the server store holds it, `flash()` the
 * flash messages of the next request.
 */
async function submitSignup(app: SecurityApp, body: Record<string, unknown>) {
  const client = app.client()
  const response = await client.request('/signup', {
    method: 'POST',
    body,
    headers: { accept: 'text/html', referer: `${app.url}/form` },
  })
  return {
    response,
    stored: async () => (await app.backend.raw(sessionIdOf(client)!))!,
    flash: async () => (await client.get('/flash')).json(),
  }
}

/**
 * Field names that hold secrets, as real forms name them.
 */
const SECRET_FIELDS: Record<string, string> = {
  current_password: 'secret-current-pw',
  new_password: 'secret-new-pw',
  passwordConfirmation: 'secret-confirm-pw',
  otp: 'secret-otp-9911',
  api_token: 'secret-api-token',
  card_number: '4242424242424242',
  cardNumber: '5555555555554444',
  cvv: 'secret-cvv-321',
  pin: 'secret-pin-8080',
  apiKey: 'secret-api-key',
  client_secret: 'secret-client',
  passcode: 'secret-passcode',
}

/**
 * Field names that only look a little like secret words.
 */
const PLAIN_FIELDS: Record<string, string> = {
  pinned: 'plain-pinned',
  spinach: 'plain-spinach',
  opinion: 'plain-opinion',
  tokenizer: 'plain-tokenizer',
  email: 'not-an-email',
}

test.group('security | form input', () => {
  test('secret-looking fields are never flashed nor stored, at any depth', async ({
    assert,
    cleanup,
  }) => {
    const app = await signupApp(cleanup, 'file')
    const submitted = await submitSignup(app, {
      ...SECRET_FIELDS,
      ...PLAIN_FIELDS,
      user: { 'name': 'Ada', 'Password': 'secret-nested-pw', 'pin-code': 'secret-nested-pin' },
    })
    assert.equal(submitted.response.status, 302)
    const stored = await submitted.stored()
    const flash = await submitted.flash()
    for (const [name, value] of Object.entries(SECRET_FIELDS)) {
      assert.notProperty(flash, name)
      assert.notInclude(stored, value, name)
    }
    assert.notInclude(stored, 'secret-nested')
    assert.deepEqual(flash.user, { name: 'Ada' })
    for (const [name, value] of Object.entries(PLAIN_FIELDS)) {
      assert.equal(flash[name], value, name)
    }
    assert.property(flash.inputErrorsBag, 'email')
  })

  test('an over-long field is left out of the flashed input, the error still shows', async ({
    assert,
    cleanup,
  }) => {
    const app = await signupApp(cleanup, 'file')
    const submitted = await submitSignup(app, {
      email: 'not-an-email',
      comment: 'x'.repeat(900 * 1024),
      ['k'.repeat(10 * 1024)]: 'long name',
      nickname: 'ada',
    })
    assert.equal(submitted.response.status, 302)
    const stored = await submitted.stored()
    assert.isBelow(Buffer.byteLength(stored), 4096)
    const flash = await submitted.flash()
    assert.deepEqual(Object.keys(flash.inputErrorsBag), ['email'])
    assert.equal(flash.email, 'not-an-email')
    assert.equal(flash.nickname, 'ada')
    assert.notProperty(flash, 'comment')
    assert.lengthOf(
      Object.keys(flash).filter((key) => key.startsWith('kkk')),
      0
    )
  })

  test('flashed input stops at the total limit, whatever the number of fields', async ({
    assert,
    cleanup,
  }) => {
    const app = await signupApp(cleanup, 'file')
    const fields = Object.fromEntries(
      Array.from({ length: 200 }, (_, index) => [`field${index}`, 'y'.repeat(4000)])
    )
    const submitted = await submitSignup(app, { email: 'not-an-email', ...fields })
    assert.equal(submitted.response.status, 302)
    const stored = await submitted.stored()
    assert.isBelow(Buffer.byteLength(stored), 36 * 1024)
    const flash = await submitted.flash()
    assert.equal(flash.email, 'not-an-email')
    assert.property(flash.inputErrorsBag, 'email')
    const kept = Object.keys(flash).filter((key) => key.startsWith('field'))
    assert.isAbove(kept.length, 4)
    assert.isBelow(kept.length, 9)
  })

  test('on the cookie store, old input that would not fit the cookie is left out, never a 500', async ({
    assert,
    cleanup,
  }) => {
    const app = await signupApp(cleanup, 'cookie')
    const submitted = await submitSignup(app, {
      email: 'not-an-email',
      first: 'a'.repeat(1500),
      second: 'b'.repeat(700),
      third: 'c'.repeat(700),
      fourth: 'd'.repeat(700),
    })
    assert.equal(submitted.response.status, 302)
    const flash = await submitted.flash()
    assert.property(flash.inputErrorsBag, 'email')
    assert.equal(flash.email, 'not-an-email')
    assert.notProperty(flash, 'first')
    assert.deepEqual(
      Object.keys(flash).filter((key) => ['second', 'third', 'fourth'].includes(key)),
      ['second', 'third']
    )
  })

  test('flashInputLimits in the config sets the limits per field and in total', async ({
    assert,
    cleanup,
  }) => {
    const app = await signupApp(cleanup, 'memory', {
      flashInputLimits: { field: '1kb', total: 3000 },
    })
    const submitted = await submitSignup(app, {
      email: 'not-an-email',
      short: 'a'.repeat(900),
      long: 'b'.repeat(1100),
      second: 'c'.repeat(900),
      third: 'd'.repeat(900),
      fourth: 'e'.repeat(900),
    })
    const flash = await submitted.flash()
    assert.deepEqual(
      Object.keys(flash).filter((key) => /^(short|long|second|third|fourth)$/.test(key)),
      ['short', 'second', 'third']
    )
  })

  for (const name of PROTOTYPE_MEMBER_NAMES) {
    test(`a failed form with a field named "${name}" redirects and renders its errors`, async ({
      assert,
      cleanup,
    }) => {
      const app = await bootSecurityApp({
        store: 'memory',
        withEdge: true,
        withExceptionHandler: true,
        routes: fieldRoutes,
      })
      cleanup(() => app.close())
      await registerFieldTemplate()
      const client = app.client()
      const page = `/field/${encodeURIComponent(name)}`
      const failed = await client.request(page, {
        method: 'POST',
        body: JSON.stringify({ [name]: 'abc' }),
        headers: {
          'accept': 'text/html',
          'content-type': 'application/json',
          'referer': `${app.url}${page}`,
        },
      })
      assert.equal(failed.status, 302, failed.text.slice(0, 200))
      const rendered = await client.get(page)
      assert.equal(rendered.status, 200, rendered.text.slice(0, 200))
      assert.match(
        rendered.text,
        /errors=\[The .+ field must (have at least 5 characters|be a string)\]/
      )
      // The body parser drops a "__proto__" key from JSON, so it has no old value.
      assert.include(rendered.text, name === '__proto__' ? 'old=[]' : 'old=[abc]')
    })
  }
})
