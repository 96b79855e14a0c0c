import { test } from '@japa/runner'
import { defineConfig as defineHttpConfig } from '@adonisjs/core/http'
import { defineConfig, stores } from '../../src/define_config.js'
import { MAX_COOKIE_AGE_SECONDS } from '../../src/session_cookies.js'
import {
  APP_KEY,
  bootSecurityApp,
  COOKIE_NAME,
  cookieNames,
  setCookieOf,
  type SecurityAppOptions,
} from './helpers.js'

/**
 * `config.app` with the HTTP cookie defaults of a generated app minus `secure`
 * (left to the environment), plus `cookie`.
 */
function appConfig(cookie: Record<string, unknown> = {}) {
  const http = defineHttpConfig({ cookie })
  if (!('secure' in cookie)) {
    delete (http.cookie as Record<string, unknown>).secure
  }
  return { app: { appKey: APP_KEY, http } }
}

/**
 * Boot a security app with NODE_ENV set while the app reads it.
 */
async function bootIn(environment: string, options: SecurityAppOptions) {
  const previous = process.env.NODE_ENV
  process.env.NODE_ENV = environment
  try {
    return await bootSecurityApp({ config: appConfig(), ...options })
  } finally {
    process.env.NODE_ENV = previous
  }
}

/**
 * The Set-Cookie lines of the first write of a session on the cookie store:
 * the id cookie and the data cookie.
 */
async function firstCookies(
  options: Omit<SecurityAppOptions, 'store'>,
  environment = 'development'
) {
  const app = await bootIn(environment, { store: 'cookie', ...options })
  const response = await app.client().post('/put', { a: 1 })
  await app.close()
  const cookieName = options.session?.cookieName ?? COOKIE_NAME
  return {
    id: setCookieOf(response.setCookies, cookieName)!,
    data: response.setCookies.find((line) => !line.startsWith(`${cookieName}=`))!,
  }
}

/**
 * Attributes of a Set-Cookie line, by lower-cased name.
 */
function attributesOf(line: string): Record<string, string> {
  const attributes: Record<string, string> = {}
  for (const part of line.split(';').slice(1)) {
    const [name, ...value] = part.trim().split('=')
    attributes[name.toLowerCase()] = value.join('=')
  }
  return attributes
}

test.group('security | cookies', () => {
  test('K1: the id and data cookies are HttpOnly by default', async ({ assert }) => {
    const { id, data } = await firstCookies({})
    assert.property(attributesOf(id), 'httponly')
    assert.property(attributesOf(data), 'httponly')
  })

  test('K2: the cookies are Secure by default in production, not in development', async ({
    assert,
  }) => {
    const production = await firstCookies({}, 'production')
    assert.property(attributesOf(production.id), 'secure')
    assert.property(attributesOf(production.data), 'secure')
    const development = await firstCookies({}, 'development')
    assert.notProperty(attributesOf(development.id), 'secure')
  })

  test('K3: SameSite is always sent, Lax by default', async ({ assert }) => {
    const { id, data } = await firstCookies({})
    assert.equal(attributesOf(id).samesite, 'Lax')
    assert.equal(attributesOf(data).samesite, 'Lax')
    const strict = await firstCookies({ session: { cookie: { sameSite: 'strict' } } })
    assert.equal(attributesOf(strict.id).samesite, 'Strict')
  })

  test('K3: sameSite none without secure, or no SameSite at all, fails at boot', async ({
    assert,
  }) => {
    await assert.rejects(
      () =>
        bootIn('development', {
          store: 'cookie',
          session: { cookie: { sameSite: 'none', secure: false } },
        }),
      /"cookie.sameSite" is "none", which browsers accept only with "cookie.secure: true"/
    )
    await assert.rejects(
      () => bootIn('development', { store: 'cookie', session: { cookie: { sameSite: false } } }),
      /the session cookie always sends SameSite/
    )
    const none = await firstCookies({ session: { cookie: { sameSite: 'none', secure: true } } })
    assert.equal(attributesOf(none.id).samesite, 'None')
  })

  test('K4: a __Host- name forces Secure, Path=/ and no Domain; a conflicting config fails', async ({
    assert,
  }) => {
    const host = attributesOf((await firstCookies({ session: { cookieName: '__Host-sid' } })).id)
    assert.property(host, 'secure')
    assert.equal(host.path, '/')
    assert.notProperty(host, 'domain')
    const secure = await firstCookies({ session: { cookieName: '__Secure-sid' } })
    assert.property(attributesOf(secure.id), 'secure')
    assert.property(attributesOf(secure.data), 'secure')

    const base = { store: 'cookie' as const, stores: { cookie: stores.cookie() } }
    assert.throws(
      () => defineConfig({ ...base, cookieName: '__Host-sid', cookie: { domain: 'example.com' } }),
      /"cookieName" starts with "__Host-", so "cookie.domain" must be unset/
    )
    assert.throws(
      () => defineConfig({ ...base, cookieName: '__Host-sid', cookie: { path: '/app' } }),
      /"cookieName" starts with "__Host-", so "cookie.path" must be "\/"/
    )
    for (const cookieName of ['__Host-sid', '__Secure-sid']) {
      assert.throws(
        () => defineConfig({ ...base, cookieName, cookie: { secure: false } }),
        /so "cookie.secure" cannot be false/
      )
    }
  })

  test('K5: cookie names, paths and domains with forbidden characters fail at boot', ({
    assert,
  }) => {
    const base = { store: 'cookie' as const, stores: { cookie: stores.cookie() } }
    for (const bad of [';', '\r', '\n', ' ']) {
      assert.throws(
        () => defineConfig({ ...base, cookieName: `session${bad}x` }),
        /"cookieName" is .*cookie names may hold letters, digits/s
      )
      assert.throws(
        () => defineConfig({ ...base, cookie: { path: `/app${bad}x` } }),
        /"cookie.path" is .*it may not hold spaces, ";" or control characters/s
      )
      assert.throws(
        () => defineConfig({ ...base, cookie: { domain: `example${bad}.com` } }),
        /"cookie.domain" is .*which is not a domain name/s
      )
    }
  })

  test('K6: the cookie store refuses a cookie over 4096 bytes with a typed error giving the size', async ({
    assert,
    cleanup,
  }) => {
    const app = await bootSecurityApp({ store: 'cookie' })
    cleanup(() => app.close())
    const client = app.client()
    const response = await client.request('/put', {
      method: 'POST',
      body: { big: 'x'.repeat(5000) },
      headers: { accept: 'application/json' },
    })
    assert.equal(response.status, 500)
    const size = /^The session data cookie is (\d+) bytes, over the 4096 bytes browsers keep/.exec(
      response.text
    )
    assert.isNotNull(size, response.text)
    assert.isAbove(Number(size![1]), 6000, 'the 5,000-character value, sealed')
    for (const line of response.setCookies) {
      assert.isAtMost(line.split(';')[0].length, 4096)
    }
    const fits = await client.post('/put', { big: 'x'.repeat(2500) })
    assert.equal(fits.status, 200)
  })

  test('K7: Max-Age never exceeds 400 days', async ({ assert }) => {
    const { id, data } = await firstCookies({ session: { age: '500 days' } })
    assert.equal(attributesOf(id)['max-age'], String(MAX_COOKIE_AGE_SECONDS))
    assert.equal(attributesOf(data)['max-age'], String(MAX_COOKIE_AGE_SECONDS))
    assert.equal(MAX_COOKIE_AGE_SECONDS, 400 * 24 * 3600)
  })

  for (const store of ['cookie', 'memory'] as const) {
    test(`K8: never two Set-Cookie headers for one name on the ${store} store`, async ({
      assert,
      cleanup,
    }) => {
      const app = await bootSecurityApp({
        store,
        routes: (router) => {
          router.post('/churn', async ({ session, response }) => {
            session.put('a', 1)
            session.regenerate()
            session.regenerate()
            response.cookie(COOKIE_NAME, 'set by the app')
            await session.commit()
            session.put('b', 2)
            return { ok: true }
          })
          router.post('/switch', ({ session }) => {
            session.regenerate()
            session.invalidate()
            return { ok: true }
          })
        },
      })
      cleanup(() => app.close())
      const client = app.client()
      for (const path of ['/put', '/churn', '/login', '/put', '/switch', '/put', '/logout']) {
        const response = await client.post(path, { step: path })
        assert.isBelow(response.status, 400)
        const names = cookieNames(response.setCookies)
        assert.deepEqual(names, [...new Set(names)], path)
      }
    })

    test(`K9: clearWithBrowser sends no Max-Age or Expires whatever the app's cookie defaults say (${store} store)`, async ({
      assert,
      cleanup,
    }) => {
      const app = await bootSecurityApp({
        store,
        session: { clearWithBrowser: true },
        config: appConfig({ maxAge: '2h', expires: new Date(Date.now() + 86_400_000) }),
      })
      cleanup(() => app.close())
      const response = await app.client().post('/put', { a: 1 })
      assert.isAtLeast(response.setCookies.length, store === 'cookie' ? 2 : 1)
      for (const line of response.setCookies) {
        assert.notProperty(attributesOf(line), 'max-age')
        assert.notProperty(attributesOf(line), 'expires')
      }
    })

    test(`K10: clearing sends the same Path and Domain, an empty value and Max-Age=0 (${store} store)`, async ({
      assert,
      cleanup,
    }) => {
      const app = await bootSecurityApp({
        store,
        session: { cookie: { path: '/app', domain: 'example.test' } },
      })
      cleanup(() => app.close())
      const client = app.client()
      const set = (await client.post('/put', { a: 1 })).setCookies
      const cleared = (await client.post('/logout')).setCookies
      for (const name of cookieNames(set)) {
        const line = setCookieOf(cleared, name)!
        assert.isString(line, `${name} is cleared`)
        assert.isTrue(line.startsWith(`${name}=;`))
        const attributes = attributesOf(line)
        const original = attributesOf(setCookieOf(set, name)!)
        assert.equal(attributes['max-age'], '0')
        assert.equal(attributes.path, '/app')
        assert.equal(attributes.path, original.path)
        assert.equal(attributes.domain, original.domain)
      }
    })
  }
})
