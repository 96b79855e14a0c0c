import { test } from '@japa/runner'
import { createHash } from 'node:crypto'
import type { Router } from '@adonisjs/core/http'
import vine from '@vinejs/vine'
import {
  bootSecurityApp,
  COOKIE_NAME,
  runDebugProbe,
  sessionIdOf,
  setCookieOf,
  type SecurityAppOptions,
} from './helpers.js'

/**
 * The template that prints every session global and tag.
 */
const PROBE_TEMPLATE = [
  'session={{ dump(session) }}',
  'flash={{ dump(flashMessages) }}',
  "old={{ old('email') }}",
  'internals={{ session.sessionId }}|{{ session.config }}|{{ flashMessages.sessionId }}|{{ session.store }}',
  "@flashMessage('notice')",
  'notice={{ $message }}',
  '@end',
  "@error('E_X')",
  'error={{ $message }}',
  '@end',
  '@errors',
  'errors={{ dump($messages) }}',
  '@end',
].join('\n')

/**
 * Routes of the flash, form and template tests.
 */
function templateRoutes(router: Router) {
  const signup = vine.compile(
    vine.object({ email: vine.string().email(), password: vine.string().minLength(12) })
  )
  router.post('/flash', ({ session }) => {
    session.flash('notice', 'saved!')
    session.flashErrors({ E_X: 'boom' })
    return { ok: true }
  })
  router.get('/flash-read', ({ session }) => ({ flash: session.flashMessages.all() }))
  router.get('/reflash', ({ session }) => {
    session.reflash()
    return { flash: session.flashMessages.all() }
  })
  router.get('/form', ({ session }) => ({ flash: session.flashMessages.all() }))
  router.post('/signup', async ({ request }) => {
    await signup.validate(request.all())
    return { ok: true }
  })
  router.get('/probe', ({ view }: any) => view.render('security_probe'))
  router.get('/cached', ({ session, response }) => {
    response.header('cache-control', 'public, max-age=60')
    session.put('cached', true)
    return { ok: true }
  })
}

/**
 * GET /cache answers with the Cache-Control in `value`; with `put` it also
 * changes the session (so a new session sets its cookie).
 */
function cacheRoutes(router: Router) {
  router.get('/cache', ({ request, response, session }) => {
    response.header('cache-control', request.input('value'))
    if (request.input('put')) {
      session.put('visited', true)
    }
    return { ok: true }
  })
}

/**
 * A security app with Edge and the template routes.
 */
async function bootTemplateApp(options: Partial<SecurityAppOptions> = {}) {
  const app = await bootSecurityApp({
    store: 'memory',
    routes: (router) => {
      templateRoutes(router)
      cacheRoutes(router)
    },
    withExceptionHandler: true,
    ...options,
  })
  return app
}

let probeRegistered = false

/**
 * Register the probe template and its `dump` global on the Edge instance once.
 */
async function registerProbeTemplate() {
  const { default: edge } = await import('edge.js')
  if (!probeRegistered) {
    edge.registerTemplate('security_probe', { template: PROBE_TEMPLATE })
    edge.global('dump', (value: unknown) => JSON.stringify(value))
    probeRegistered = true
  }
}

test.group('security | templates and logs', () => {
  test('F1: flash messages are readable on exactly the next request, reflash extends them once', async ({
    assert,
    cleanup,
  }) => {
    const app = await bootTemplateApp()
    cleanup(() => app.close())
    const client = app.client()
    const expected = { notice: 'saved!', errorsBag: { E_X: 'boom' } }
    await client.post('/flash')
    assert.deepEqual((await client.get('/flash-read')).json().flash, expected)
    assert.deepEqual((await client.get('/flash-read')).json().flash, {})

    await client.post('/flash')
    assert.deepEqual((await client.get('/reflash')).json().flash, expected)
    assert.deepEqual((await client.get('/flash-read')).json().flash, expected)
    assert.deepEqual((await client.get('/flash-read')).json().flash, {})
  })

  test('F2: after a failed form the errors and old input are there, passwords never', async ({
    assert,
    cleanup,
  }) => {
    const app = await bootTemplateApp()
    cleanup(() => app.close())
    const client = app.client()
    const form = {
      email: 'not-an-email',
      password: 'hunter2',
      password_confirmation: 'hunter2',
      _csrf: 'token-value',
    }
    const failed = await client.request('/signup', {
      method: 'POST',
      form,
      headers: { accept: 'text/html', referer: `${app.url}/form` },
    })
    assert.equal(failed.status, 302)
    const { flash } = (await client.get('/form')).json()
    assert.equal(flash.email, 'not-an-email')
    assert.includeMembers(Object.keys(flash.inputErrorsBag), ['email', 'password'])
    assert.property(flash.errorsBag, 'E_VALIDATION_ERROR')
    const stored = JSON.stringify(flash)
    for (const secret of ['hunter2', 'token-value']) {
      assert.notInclude(stored, secret)
    }
  })

  test('F3: Edge tags and globals never expose the session id, a cookie value or a token', async ({
    assert,
    cleanup,
  }) => {
    const app = await bootTemplateApp({ withEdge: true })
    cleanup(() => app.close())
    await registerProbeTemplate()
    const client = app.client()
    await client.post('/put', { name: 'visible' })
    await client.post('/flash')
    const page = await client.get('/probe')
    assert.equal(page.status, 200)
    assert.include(page.text, 'notice=saved!')
    assert.include(page.text, 'error=boom')
    assert.include(page.text, 'visible')
    const id = sessionIdOf(client)!
    for (const secret of [
      id,
      ...client.jar.values(),
      decodeURIComponent(client.jar.get(COOKIE_NAME)!),
    ]) {
      assert.notInclude(page.text, secret)
    }
    assert.include(page.text, 'internals=undefined|undefined|undefined|undefined')
  })

  test('O1: debug output and logs never contain a raw session id or cookie value', async ({
    assert,
  }) => {
    const { output, secrets } = await runDebugProbe()
    assert.isAbove(secrets.length, 10)
    const leaked = secrets.filter((secret) => output.includes(secret))
    assert.deepEqual(leaked, [])
    const ids = secrets.filter((secret) => /^[A-Za-z0-9_-]{24}$/.test(secret))
    const fingerprints = ids.map((id) => createHash('sha256').update(id).digest('hex').slice(0, 8))
    assert.isTrue(fingerprints.some((fingerprint) => output.includes(fingerprint)))
    for (const line of [
      /initiated session [0-9a-f]{8}/,
      /regenerated session [0-9a-f]{8} as [0-9a-f]{8}/,
      /commit [0-9a-f]{8}: full write under a new id/,
      /commit [0-9a-f]{8}: unchanged, (touch only|no store call)/,
      /loading the session failed on the "hanging" store: E_SESSION_STORE_UNAVAILABLE/,
      /committing the session failed on the "echoing" store: E_SESSION_STORE_UNAVAILABLE/,
      /echoing store answered 503: The "echoing" session store is unavailable: unknown error/,
      /sets the session cookie: Cache-Control "public, max-age=60" made "private, max-age=60"/,
    ]) {
      assert.match(output, line)
    }
  }).timeout(60_000)

  test('O2: responses that set the session cookie are not shared-cacheable', async ({
    assert,
    cleanup,
  }) => {
    const app = await bootTemplateApp({ session: { skip: ['/flash-read'] } })
    cleanup(() => app.close())
    const client = app.client()
    for (const [method, path] of [
      ['POST', '/put'],
      ['GET', '/form'],
      ['POST', '/logout'],
    ]) {
      const response = await client.request(path, {
        method,
        body: method === 'POST' ? {} : undefined,
      })
      assert.isNotEmpty(response.setCookies, path)
      assert.equal(response.headers.get('cache-control'), 'private', path)
    }
    const skipped = await client.get('/flash-read')
    assert.deepEqual(skipped.setCookies, [])
    assert.isNull(skipped.headers.get('cache-control'))
    const chosen = await client.get('/cached')
    assert.isString(setCookieOf(chosen.setCookies, COOKIE_NAME))
    assert.equal(chosen.headers.get('cache-control'), 'private, max-age=60')
  })

  test('O2: a shared-cacheable Cache-Control becomes private when the response sets the session cookie', async ({
    assert,
    cleanup,
  }) => {
    const app = await bootTemplateApp({ store: 'file' })
    cleanup(() => app.close())
    const cases: [string, string][] = [
      ['public, max-age=60', 'private, max-age=60'],
      ['Public, S-MaxAge=600, max-age=60, proxy-revalidate', 'private, max-age=60'],
      ['s-maxage=600, stale-while-revalidate=30', 'private, stale-while-revalidate=30'],
      ['no-cache', 'private, no-cache'],
      ['private, max-age=60', 'private, max-age=60'],
      ['no-store', 'no-store'],
    ]
    for (const [chosen, expected] of cases) {
      const client = app.client()
      const response = await client.get(`/cache?value=${encodeURIComponent(chosen)}&put=1`)
      assert.isString(setCookieOf(response.setCookies, COOKIE_NAME), chosen)
      assert.equal(response.headers.get('cache-control'), expected, chosen)
      const unchanged = await client.get(`/cache?value=${encodeURIComponent(chosen)}`)
      assert.deepEqual(unchanged.setCookies, [], chosen)
      assert.equal(unchanged.headers.get('cache-control'), chosen, chosen)
    }
  })
})
