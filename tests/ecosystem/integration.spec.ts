import { test } from '@japa/runner'
import { createEcosystemApp, type EcosystemApp } from '../../tests_helpers/ecosystem/app.js'
import { FRAMEWORK } from '../../tests_helpers/ecosystem/framework.js'
import { redirectBackLocation } from '../../tests_helpers/framework.js'
import { AppBrowser, SESSION_COOKIE } from './helpers.js'

/**
 * The ids of a user's sessions the store lists.
 */
async function taggedIds(app: EcosystemApp, email: string): Promise<string[]> {
  const user = await app.db.from('users').where('email', email).firstOrFail()
  return (await app.manager.tagged(user.id)).map(({ id }) => id)
}

test.group('Ecosystem | auth, shield, inertia and lucid over HTTP', (group) => {
  let app: EcosystemApp
  group.each.setup(async () => {
    app = await createEcosystemApp()
    return () => app.close()
  })

  test('register logs in under a regenerated session id, tagged with the user', async ({
    assert,
  }) => {
    const browser = new AppBrowser(app.url)
    await browser.get('/register')
    const before = browser.jar.get(SESSION_COOKIE)
    assert.isString(before)
    const response = await browser.register('ada@example.com')
    assert.equal(response.status, 302)
    assert.equal(response.headers.get('location'), '/dashboard')
    assert.notEqual(browser.jar.get(SESSION_COOKIE), before)
    const me = await browser.whoAmI()
    assert.equal(me.email, 'ada@example.com')
    assert.deepEqual(await taggedIds(app, 'ada@example.com'), [me.sessionId])
  })

  test('a protected route sends guests to the login page, and logout ends the login', async ({
    assert,
  }) => {
    const browser = new AppBrowser(app.url)
    const guest = await browser.get('/dashboard')
    assert.equal(guest.status, 302)
    assert.equal(guest.headers.get('location'), '/login')
    await browser.register('ada@example.com')
    browser.dropSessionCookie()
    assert.equal((await browser.whoAmI()).status, 401)

    const login = await browser.login('ada@example.com')
    assert.equal(login.headers.get('location'), '/dashboard')
    const me = await browser.whoAmI()
    assert.equal(me.email, 'ada@example.com')
    assert.include(await taggedIds(app, 'ada@example.com'), me.sessionId!)
    const logout = await browser.submit('/dashboard', '/logout', {})
    assert.equal(logout.headers.get('location'), '/login')
    assert.equal((await browser.whoAmI()).status, 401)
    assert.notInclude(
      await taggedIds(app, 'ada@example.com'),
      me.sessionId!,
      'logout unlinks the session'
    )
  })

  test('wrong credentials flash an error back to the form', async ({ assert }) => {
    const browser = new AppBrowser(app.url)
    await browser.register('ada@example.com')
    const other = new AppBrowser(app.url)
    const response = await other.login('ada@example.com', false, 'wrong-password')
    assert.equal(response.status, 302)
    const form = await other.get('/login')
    assert.include(form.text, 'id="login-error"')
    assert.include(form.text, 'value="ada@example.com"')
    assert.equal((await other.whoAmI()).status, 401)
  })

  test('remember-me logs the browser in again after its session cookie is gone, into a tagged session', async ({
    assert,
  }) => {
    const browser = new AppBrowser(app.url)
    await browser.register('ada@example.com')
    browser.jar.clear()
    await browser.login('ada@example.com', true)
    const first = await browser.whoAmI()
    assert.isTrue([...browser.jar.keys()].includes('remember_web'))

    browser.dropSessionCookie()
    const restored = await browser.whoAmI()
    assert.equal(restored.email, 'ada@example.com')
    assert.notEqual(restored.sessionId, first.sessionId)
    assert.includeMembers(await taggedIds(app, 'ada@example.com'), [restored.sessionId!])

    const forgotten = new AppBrowser(app.url)
    await forgotten.login('ada@example.com')
    forgotten.dropSessionCookie()
    assert.equal((await forgotten.whoAmI()).status, 401, 'no remember-me, no way back')
  })

  test('CSRF: the form token is accepted, a forged or missing one is rejected', async ({
    assert,
  }) => {
    const browser = new AppBrowser(app.url)
    await browser.register('ada@example.com')
    const forged = await browser.request('/logout', {
      method: 'POST',
      form: { _csrf: 'forged' },
      headers: { referer: `${app.url}/dashboard` },
    })
    assert.equal(forged.status, 302)
    assert.equal(forged.headers.get('location'), redirectBackLocation(`${app.url}/dashboard`))
    const missing = await browser.request('/logout', { method: 'POST' })
    assert.equal(missing.status, 302)
    assert.equal((await browser.whoAmI()).email, 'ada@example.com', 'still logged in')
    const flashed = await browser.get('/dashboard')
    assert.equal(flashed.status, 200)

    const accepted = await browser.submit('/dashboard', '/logout', {})
    assert.equal(accepted.headers.get('location'), '/login')
    assert.equal((await browser.whoAmI()).status, 401)
  })

  test('validation errors: HTML gets a 302 back with old input and messages, JSON a 422', async ({
    assert,
  }) => {
    const browser = new AppBrowser(app.url)
    const html = await browser.submit(
      '/register',
      '/register',
      { email: 'not-an-email', password: 'short' },
      { referer: `${app.url}/register` }
    )
    assert.equal(html.status, 302)
    assert.equal(html.headers.get('location'), redirectBackLocation(`${app.url}/register`))
    const form = await browser.get('/register')
    assert.include(form.text, 'value="not-an-email"')
    assert.match(form.text, /id="email-error">[^<]*email/)
    assert.match(form.text, /id="password-error">[^<]*8/)
    assert.notInclude(form.text, 'short', 'the password is never flashed back')
    assert.notInclude((await browser.get('/register')).text, 'email-error', 'flashed once')

    const token = (await browser.get('/register')).text.match(/name='_csrf' value='([^']+)'/)![1]
    const json = await browser.request('/register', {
      method: 'POST',
      body: { email: 'not-an-email', password: 'short', _csrf: token },
      headers: { accept: 'application/json' },
    })
    assert.equal(json.status, 422)
    assert.deepEqual(
      json.json().errors.map((error: { field: string }) => error.field),
      ['email', 'password']
    )
  })

  test('Inertia: a failed form comes back with props.errors, once', async ({ assert }) => {
    const browser = new AppBrowser(app.url)
    const page = await browser.get('/profile', FRAMEWORK.inertiaHeaders)
    assert.equal(page.status, 200)
    assert.deepEqual(page.json().props.errors ?? {}, {})
    const token = (await browser.get('/register')).text.match(/name='_csrf' value='([^']+)'/)![1]
    const response = await browser.request('/profile', {
      method: 'POST',
      body: { name: 'A' },
      headers: {
        ...FRAMEWORK.inertiaHeaders,
        'x-csrf-token': token,
        'referer': `${app.url}/profile`,
      },
    })
    assert.oneOf(response.status, [302, 303])
    assert.equal(response.headers.get('location'), redirectBackLocation(`${app.url}/profile`))
    const next = (await browser.get('/profile', FRAMEWORK.inertiaHeaders)).json()
    assert.equal(next.component, 'profile')
    assert.match(next.props.errors.name, /3/)
    const again = (await browser.get('/profile', FRAMEWORK.inertiaHeaders)).json()
    assert.deepEqual(again.props.errors ?? {}, {})
  })

  test('skipped routes behind shield and auth answer with a request-only session', async ({
    assert,
  }) => {
    const browser = new AppBrowser(app.url)
    await browser.register('ada@example.com')
    await browser.login('ada@example.com', false, 'wrong-password')
    const rowsBefore = await app.db.from('sessions').orderBy('id')

    const health = await browser.get('/health')
    assert.equal(health.status, 200)
    assert.deepEqual(health.json(), {
      ok: true,
      skipped: true,
      loggedIn: false,
      csrfToken: true,
      keys: ['csrf-secret'],
    })
    assert.isFalse(
      health.setCookies.some((line) => line.startsWith(`${SESSION_COOKIE}=`)),
      'no session cookie'
    )
    const upload = await browser.post('/assets/upload', {})
    assert.equal(upload.status, 200)
    assert.deepInclude(upload.json(), { upload: 'kept for this request' })
    const forged = await browser.post('/health', {})
    assert.equal(forged.status, 302, 'shield rejects the token, not a 500')

    assert.deepEqual(await app.db.from('sessions').orderBy('id'), rowsBefore, 'nothing stored')
    const login = await browser.get('/login')
    assert.include(login.text, 'id="login-error"', 'the flash messages were not aged')
    assert.equal((await browser.whoAmI()).email, 'ada@example.com')
  })

  test('signing out other devices ends their sessions and revokes their remember-me tokens', async ({
    assert,
  }) => {
    const laptop = new AppBrowser(app.url)
    await laptop.register('ada@example.com')
    const phone = new AppBrowser(app.url)
    await phone.login('ada@example.com', true)
    const tablet = new AppBrowser(app.url)
    await tablet.login('ada@example.com', true)
    const devices = await laptop.get('/devices', { accept: 'application/json' })
    assert.lengthOf(devices.json(), 3)

    const token = (await laptop.get('/register')).text.match(/name='_csrf' value='([^']+)'/)![1]
    const result = await laptop.request('/devices/sign-out-others', {
      method: 'POST',
      body: { _csrf: token },
      headers: { accept: 'application/json' },
    })
    assert.deepEqual(result.json(), { sessions: 2, rememberMeTokens: 2 })
    for (const device of [phone, tablet]) {
      assert.isTrue(device.jar.has('remember_web'), 'the device still holds its cookie')
      assert.equal((await device.whoAmI()).status, 401)
    }
    assert.equal((await laptop.whoAmI()).email, 'ada@example.com')
    assert.deepEqual((await laptop.get('/devices', { accept: 'application/json' })).json(), [
      { current: true },
    ])
  })

  test('without revoking remember-me tokens, a remembered device comes back in a new tagged session', async ({
    assert,
  }) => {
    const laptop = new AppBrowser(app.url)
    await laptop.register('ada@example.com')
    const phone = new AppBrowser(app.url)
    await phone.login('ada@example.com', true)
    const laptopId = (await laptop.whoAmI()).sessionId!
    const user = await app.db.from('users').where('email', 'ada@example.com').firstOrFail()
    assert.equal(await app.manager.destroyTagged(user.id, { except: laptopId }), 1)

    const back = await phone.whoAmI()
    assert.equal(back.email, 'ada@example.com')
    assert.sameMembers(await taggedIds(app, 'ada@example.com'), [laptopId, back.sessionId!])
  })

  test('a remembered device keeps its own token when it signs out the others', async ({
    assert,
  }) => {
    const phone = new AppBrowser(app.url)
    await phone.register('ada@example.com')
    phone.jar.clear()
    await phone.login('ada@example.com', true)
    const tablet = new AppBrowser(app.url)
    await tablet.login('ada@example.com', true)
    const token = (await phone.get('/register')).text.match(/name='_csrf' value='([^']+)'/)![1]
    const result = await phone.request('/devices/sign-out-others', {
      method: 'POST',
      body: { _csrf: token },
      headers: { accept: 'application/json' },
    })
    assert.deepEqual(
      result.json(),
      { sessions: 2, rememberMeTokens: 1 },
      'the tablet and the session the phone registered in'
    )
    phone.dropSessionCookie()
    assert.equal((await phone.whoAmI()).email, 'ada@example.com', 'remembered again')
    tablet.dropSessionCookie()
    assert.equal((await tablet.whoAmI()).status, 401)
  })
})
