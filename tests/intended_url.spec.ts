import { request as httpRequest } from 'node:http'
import { test } from '@japa/runner'
import { Exception } from '@adonisjs/core/exceptions'
import { createTestApp, CookieClient, type TestApp } from '../tests_helpers/index.js'
import { defineConfig, stores } from '../index.js'
import { Redirect } from '@adonisjs/core/http'
import { redirectBackLocation } from '../tests_helpers/framework.js'
import { importOfficialMiddleware } from '../tests_helpers/official_app.js'

/**
 * What an auth guard throws for a guest: its `handle` sends the user to sign
 * in, remembering where they were going (as @adonisjs/auth does with
 * `withIntendedUrl`).
 */
class GuestError extends Exception {
  static status = 401

  /** Redirect to the login page, remembering the current URL. */
  async handle(_: GuestError, ctx: any) {
    ctx.response.redirect().withIntendedUrl().toPath('/login')
  }
}

/**
 * Send a GET with a raw request target (fetch would normalize it).
 */
function rawGet(url: string, path: string, cookie: string) {
  const { hostname, port } = new URL(url)
  return new Promise<{ status: number; location?: string; setCookies: string[] }>(
    (resolve, reject) => {
      const request = httpRequest({ hostname, port, path, headers: { cookie } }, (response) => {
        response.resume()
        response.on('end', () =>
          resolve({
            status: response.statusCode!,
            location: response.headers.location,
            setCookies: response.headers['set-cookie'] ?? [],
          })
        )
      })
      request.on('error', reject)
      request.end()
    }
  )
}

/**
 * Boot the app of the intended-URL tests: the memory store, a guarded page,
 * login routes and routes that drive the session's intended and previous URLs.
 */
function bootIntendedUrlApp(): Promise<TestApp> {
  return createTestApp({
    session: defineConfig({ store: 'memory', stores: { memory: stores.memory() } }),
    routes: async (router, application) => {
      const server = await application.container.make('server')
      server.errorHandler(() => import('./fixtures/app_exception_handler.js'))
      router.get('/orders', ({ session }) => {
        if (!session.get('user')) {
          throw new GuestError('Sign in first')
        }
        return 'orders'
      })
      router.post('/orders', ({ response }) => {
        return response.redirect().withIntendedUrl().toPath('/login')
      })
      router.get('/login', () => 'login form').as('login')
      router.get('/home', () => 'home').as('home')
      router.post('/login', ({ session, response }) => {
        session.put('user', { id: 1 })
        return response.redirect().toIntended('/dashboard')
      })
      router.post('/login-default', ({ response }) => response.redirect().toIntended())
      router.post('/login-route', ({ response }) => {
        return response.redirect().toIntendedRoute('home')
      })
      router.post('/api', async ({ request, session }) => {
        const { action, url } = request.body()
        if (action === 'set') session.setIntendedUrl(url)
        if (action === 'clear') session.clearIntendedUrl()
        if (action === 'pull') return { pulled: session.pullIntendedUrl() ?? null }
        if (action === 'store-raw') session.put('redirect.intendedUrl', url)
        return { intended: session.getIntendedUrl() ?? null, all: session.all() }
      })
      router.post('/previous', ({ request, session }) => {
        session.put('redirect.previousUrl', request.input('url'))
      })
      router.post('/back', ({ response }) => response.redirect().back())
      router.get('/*', ({ response }) => response.redirect().withIntendedUrl().toPath('/login'))
    },
  })
}

test.group('intended url', (group) => {
  let app: TestApp

  group.setup(async () => {
    app = await bootIntendedUrlApp()
    return () => app.close()
  })

  test('a guest is sent to sign in and then back to the page they asked for', async ({
    assert,
  }) => {
    const browser = new CookieClient(app.url)
    const guarded = await browser.get('/orders?page=2&sort=date')
    assert.equal(guarded.status, 302)
    assert.equal(guarded.headers.get('location'), '/login')

    const login = await browser.request('/login', { method: 'POST', form: {} })
    assert.equal(login.status, 302)
    assert.equal(login.headers.get('location'), '/orders?page=2&sort=date')
    assert.equal((await browser.get('/orders?page=2&sort=date')).text, 'orders')
    const after = (await browser.post('/api', { action: 'get' })).json().all
    assert.notProperty(after, 'redirect', 'toIntended left an empty "redirect" object behind')

    const again = await browser.request('/login', { method: 'POST', form: {} })
    assert.equal(again.headers.get('location'), '/dashboard')
  })

  test('toIntended falls back to / and toIntendedRoute to the named route', async ({ assert }) => {
    const browser = new CookieClient(app.url)
    const plain = await browser.request('/login-default', { method: 'POST', form: {} })
    assert.equal(plain.headers.get('location'), '/')
    const named = await browser.request('/login-route', { method: 'POST', form: {} })
    assert.equal(named.headers.get('location'), '/home')

    await browser.get('/orders?tab=open')
    const remembered = await browser.request('/login-route', { method: 'POST', form: {} })
    assert.equal(remembered.headers.get('location'), '/orders?tab=open')
  })

  test('withIntendedUrl remembers only GET requests', async ({ assert }) => {
    const browser = new CookieClient(app.url)
    const posted = await browser.request('/orders', { method: 'POST', form: {} })
    assert.equal(posted.headers.get('location'), '/login')
    const state = (await browser.post('/api', { action: 'get' })).json()
    assert.isNull(state.intended)
  })

  test('withIntendedUrl ignores ajax requests', async ({ assert }) => {
    const browser = new CookieClient(app.url)
    const ajax = await browser.get('/reports', { 'x-requested-with': 'XMLHttpRequest' })
    assert.equal(ajax.headers.get('location'), '/login')
    assert.isNull((await browser.post('/api', { action: 'get' })).json().intended)
    await browser.get('/reports')
    assert.equal((await browser.post('/api', { action: 'get' })).json().intended, '/reports')
  })

  test('redirect back prefers redirect.previousUrl where the framework has getPreviousUrl', async ({
    assert,
  }) => {
    const readsPrevious = 'getPreviousUrl' in Redirect.prototype
    const browser = new CookieClient(app.url)
    const referer = `${app.url}/from-referer`
    await browser.post('/previous', { url: '/from-session' })
    const back = await browser.post('/back', {}, { referer })
    assert.equal(
      back.headers.get('location'),
      readsPrevious ? '/from-session' : redirectBackLocation(referer)
    )
    const all = (await browser.post('/api', { action: 'get' })).json().all
    assert.equal(all.redirect?.previousUrl, readsPrevious ? undefined : '/from-session')

    await browser.post('/previous', { url: 'https://evil.com/phish' })
    const unsafe = await browser.post('/back', {}, { referer })
    assert.equal(unsafe.headers.get('location'), redirectBackLocation(referer))
  })

  test('a boot puts back the previous url check after another session package replaced it', async ({
    assert,
    cleanup,
  }) => {
    await importOfficialMiddleware()
    const again = await bootIntendedUrlApp()
    cleanup(() => again.close())
    const browser = new CookieClient(again.url)
    const referer = `${again.url}/from-referer`
    await browser.post('/previous', { url: 'https://evil.com/phish' })
    const back = await browser.post('/back', {}, { referer })
    assert.equal(back.headers.get('location'), redirectBackLocation(referer))
  })

  test('set, get, pull and clear keep the url under redirect.intendedUrl', async ({ assert }) => {
    const browser = new CookieClient(app.url)
    const set = (
      await browser.post('/api', { action: 'set', url: '/reports/42?format=pdf' })
    ).json()
    assert.equal(set.intended, '/reports/42?format=pdf')
    assert.deepEqual(set.all.redirect, { intendedUrl: '/reports/42?format=pdf' })

    assert.equal(
      (await browser.post('/api', { action: 'get' })).json().intended,
      '/reports/42?format=pdf'
    )
    assert.equal(
      (await browser.post('/api', { action: 'pull' })).json().pulled,
      '/reports/42?format=pdf'
    )
    assert.isNull((await browser.post('/api', { action: 'get' })).json().intended)

    await browser.post('/api', { action: 'set', url: '/settings' })
    const cleared = (await browser.post('/api', { action: 'clear' })).json()
    assert.isNull(cleared.intended)
    assert.notProperty(cleared.all, 'redirect')
  })

  test('urls that could leave the site are ignored and never followed', async ({ assert }) => {
    const browser = new CookieClient(app.url)
    await browser.post('/api', { action: 'set', url: '/kept' })
    for (const url of [
      '//evil.com',
      'https://evil.com',
      '/\\evil.com',
      'http:/evil.com',
      'javascript:alert(1)',
      '/\t/evil.com',
      'evil.com',
    ]) {
      const ignored = (await browser.post('/api', { action: 'set', url })).json()
      assert.equal(ignored.intended, '/kept', url)
    }
    await browser.post('/api', { action: 'clear' })

    for (const url of ['https://evil.com/phish', '//evil.com', '/\\evil.com']) {
      await browser.post('/api', { action: 'store-raw', url })
      const followed = await browser.request('/login', { method: 'POST', form: {} })
      assert.equal(followed.headers.get('location'), '/dashboard', url)
    }
  })

  test('a request for //evil.com is not remembered as the intended url', async ({ assert }) => {
    const browser = new CookieClient(app.url)
    await browser.post('/api', { action: 'get' })
    const response = await rawGet(app.url, '//evil.com/login', browser.cookieHeader())
    assert.equal(response.status, 302)
    assert.equal(response.location, '/login')
    const state = (await browser.post('/api', { action: 'get' })).json()
    assert.isNull(state.intended)

    browser.absorb(response.setCookies)
    const settings = await rawGet(app.url, '/account/settings?tab=2', browser.cookieHeader())
    browser.absorb(settings.setCookies)
    const remembered = (await browser.post('/api', { action: 'get' })).json()
    assert.equal(remembered.intended, '/account/settings?tab=2')
  })
})
