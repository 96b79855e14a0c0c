import { test } from '@japa/runner'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Exception } from '@adonisjs/core/exceptions'
import { ExceptionHandler, type HttpContext, type Router } from '@adonisjs/core/http'
import type { ApplicationService } from '@adonisjs/core/types'
import { METADATA_KEY } from '../src/payload.js'
import { defineConfig } from '../src/define_config.js'
import type { SessionChanges } from '../src/types.js'
import { CookieClient, createTestApp } from '../tests_helpers/index.js'
import { StoreCallCounter } from '../tests_helpers/counting_store.js'
import { CORE_STORES, createStoreApp } from '../tests_helpers/store_matrix.js'

for (const store of CORE_STORES) {
  test.group(`SessionMiddleware | commit on the ${store} store`, () => {
    test('commit also when the handler throws: values and flash set before are kept', async ({
      assert,
      cleanup,
    }) => {
      const { client, close } = await createStoreApp(store)
      cleanup(close)
      const failed = await client.post('/session/throw', {
        calls: [
          ['put', 'draft', 'kept'],
          ['flash', 'error', 'Something broke'],
        ],
      })
      assert.equal(failed.status, 500)
      const next = (await client.get('/session')).json()
      assert.deepEqual(next.values, { draft: 'kept' })
      assert.deepEqual(next.flashMessages, { error: 'Something broke' })
    })

    test('send the id cookie with Max-Age = age when the session opens', async ({
      assert,
      cleanup,
    }) => {
      const { client, close } = await createStoreApp(store, { session: { age: '10m' } })
      cleanup(close)
      const opened = await client.post('/session/call', { calls: [['put', 'a', 1]] })
      const idLine = opened.setCookies.find((line) => line.startsWith('adonis_session='))
      assert.include(idLine!.split('; '), 'Max-Age=600')
    })

    test('send an unchanged id cookie again only once its expiry lags behind', async ({
      assert,
      cleanup,
    }) => {
      const { client, close } = await createStoreApp(store, { session: { age: '2s' } })
      cleanup(close)
      await client.post('/session/call', { calls: [['put', 'a', 1]] })
      const first = client.jar.get('adonis_session')
      const soon = await client.get('/session')
      assert.deepEqual(soon.json().values, { a: 1 })
      assert.isUndefined(soon.setCookies.find((line) => line.startsWith('adonis_session=')))
      assert.equal(soon.headers.get('cache-control'), 'private')
      await sleep(1100)
      const later = await client.get('/session')
      const idLine = later.setCookies.find((line) => line.startsWith('adonis_session='))
      assert.include(idLine!.split('; '), 'Max-Age=2')
      assert.notEqual(client.jar.get('adonis_session'), first)
      assert.deepEqual((await client.get('/session')).json().values, { a: 1 })
    })

    test('make no store call for a request without a session cookie', async ({
      assert,
      cleanup,
    }) => {
      const counter = new StoreCallCounter()
      const { client, close } = await createStoreApp(store, { counter })
      cleanup(close)
      const response = await client.get('/session')
      assert.equal(response.status, 200)
      assert.deepEqual(counter.calls, [])
    })

    test('write no payload for a request that changed nothing: a read only (the cookie store: read and touch)', async ({
      assert,
      cleanup,
    }) => {
      const counter = new StoreCallCounter()
      const { client, close } = await createStoreApp(store, { counter })
      cleanup(close)
      await client.post('/session/call', { calls: [['put', 'a', 1]] })
      assert.equal(counter.count('write'), 1)
      counter.reset()
      const response = await client.get('/session')
      assert.deepEqual(response.json().values, { a: 1 })
      assert.deepEqual(
        counter.calls.map((entry) => entry.method),
        store === 'cookie' ? ['read', 'touch'] : ['read']
      )
    })

    test('touch an unchanged session once its expiry lags half the age, so it outlives the age while in use', async ({
      assert,
      cleanup,
    }) => {
      const counter = new StoreCallCounter()
      const { client, close } = await createStoreApp(store, { counter, session: { age: '2s' } })
      cleanup(close)
      await client.post('/session/call', { calls: [['put', 'a', 1]] })
      counter.reset()
      await client.get('/session')
      const touchesRightAway = counter.count('touch')
      await sleep(1100)
      await client.get('/session')
      const touchesLater = counter.count('touch') - touchesRightAway
      await sleep(1100)
      const afterTheAge = await client.get('/session')
      assert.equal(touchesRightAway, store === 'cookie' ? 1 : 0)
      assert.equal(touchesLater, 1)
      assert.deepEqual(afterTheAge.json().values, { a: 1 })
    })
  })
}

for (const store of ['memory', 'file'] as const) {
  test.group(`SessionMiddleware | changes on the ${store} store`, () => {
    test('touch a session whose last-seen time lies in the future (a server clock running ahead)', async ({
      assert,
      cleanup,
    }) => {
      const counter = new StoreCallCounter()
      const { client, manager, close } = await createStoreApp(store, { counter })
      cleanup(close)
      const { sessionId } = (
        await client.post('/session/call', { calls: [['put', 'a', 1]] })
      ).json()
      const now = Date.now()
      await manager.store().write(sessionId, {
        a: 1,
        [METADATA_KEY]: { createdAt: now, lastSeenAt: now + 3_600_000 },
      })
      counter.reset()
      const response = await client.get('/session')
      assert.deepEqual(response.json().values, { a: 1 })
      assert.deepEqual(
        counter.calls.map((entry) => entry.method),
        ['read', 'touch']
      )
    })

    test('merge only the changed paths into the stored session', async ({ assert, cleanup }) => {
      const counter = new StoreCallCounter()
      const { client, close } = await createStoreApp(store, { counter })
      cleanup(close)
      await client.post('/session/call', { calls: [['put', { a: 1, b: 2, c: { d: 3 } }]] })
      await client.post('/session/call', {
        calls: [
          ['put', 'c.e', 4],
          ['forget', 'a'],
          ['get', 'b'],
        ],
      })
      const merges = counter.calls.filter((entry) => entry.method === 'merge')
      assert.lengthOf(merges, 1)
      const { data, ...changes } = merges[0].args[1] as SessionChanges
      assert.deepEqual(changes, {
        set: {},
        unset: ['a'],
        cleared: false,
        operations: [{ type: 'set', path: ['c', 'e'], value: 4 }],
      })
      assert.deepInclude(data, { b: 2, c: { d: 3, e: 4 } })
      assert.notProperty(data, 'a')
      assert.deepEqual((await client.get('/session')).json().values, { b: 2, c: { d: 3, e: 4 } })
    })

    test('merge a clear as a new object with the metadata', async ({ assert, cleanup }) => {
      const counter = new StoreCallCounter()
      const { client, close } = await createStoreApp(store, { counter })
      cleanup(close)
      await client.post('/session/call', { calls: [['put', { a: 1, b: 2 }]] })
      counter.reset()
      await client.post('/session/call', { calls: [['clear'], ['put', 'c', 3]] })
      const [merge] = counter.calls.filter((entry) => entry.method === 'merge')
      assert.include(merge.args[1] as object, { cleared: true })
      assert.sameMembers(Object.keys((merge.args[1] as any).set), ['c', METADATA_KEY])
      assert.deepEqual((await client.get('/session')).json().values, { c: 3 })
    })

    test('lose no update of 20 overlapping requests that each write their own key', async ({
      assert,
      cleanup,
    }) => {
      const { client, close } = await createStoreApp(store, {
        routes(router) {
          router.post('/slow-put', async ({ session, request }) => {
            await sleep(30)
            session.put(request.input('key'), request.input('value'))
          })
        },
      })
      cleanup(close)
      await client.post('/session/call', { calls: [['put', 'base', true]] })
      const cookie = client.cookieHeader()
      const responses = await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          client.request('/slow-put', {
            method: 'POST',
            headers: { cookie },
            body: { key: `key${index}`, value: index },
          })
        )
      )
      assert.deepEqual(
        responses.map((response) => response.status),
        Array(20).fill(200)
      )
      const expected: Record<string, unknown> = { base: true }
      for (let index = 0; index < 20; index++) expected[`key${index}`] = index
      assert.deepEqual((await client.get('/session')).json().values, expected)
    })
  })
}

test.group('SessionMiddleware | file store payload', () => {
  test('leave the session file byte for byte unchanged by requests that change nothing', async ({
    assert,
    cleanup,
  }) => {
    const { client, location, close } = await createStoreApp('file')
    cleanup(close)
    const { sessionId } = (await client.post('/session/call', { calls: [['put', 'a', 1]] })).json()
    const path = join(location, `${sessionId}.txt`)
    const before = await readFile(path, 'utf8')
    await client.get('/session')
    await client.get('/session')
    assert.equal(await readFile(path, 'utf8'), before)
  })
})

test.group('SessionMiddleware | disabled', () => {
  test('give no session and send no cookie when enabled is false', async ({ assert, cleanup }) => {
    const { url, close } = await createTestApp({
      session: defineConfig({ enabled: false, store: 'memory', stores: {} }),
      routes(router) {
        router.get('/', (ctx) => ({ hasSession: ctx.session !== undefined }))
      },
    })
    cleanup(close)
    const response = await new CookieClient(url).get('/')
    assert.deepEqual(response.json(), { hasSession: false })
    assert.deepEqual(response.setCookies, [])
  })
})

test.group('SessionMiddleware | skipped routes', () => {
  /** An app on the memory store with `/health` skipped. */
  async function skippingApp(routes: Parameters<typeof createTestApp>[0]['routes']) {
    const app = await createTestApp({
      session: defineConfig({ store: 'memory', stores: {}, skip: ['/health'] }),
      routes(router, application) {
        router.post('/seed', ({ session }) => {
          session.put('cart', { items: 1 })
          session.flash('notice', 'saved')
          return { sessionId: session.sessionId }
        })
        router.get('/read', ({ session }) => ({
          values: session.all(),
          flash: session.flashMessages.all(),
        }))
        return routes?.(router, application)
      },
    })
    return { ...app, client: new CookieClient(app.url) }
  }

  test('answer with an empty session whose writes live only for the request', async ({
    assert,
    cleanup,
  }) => {
    const { client, manager, close } = await skippingApp((router) => {
      router.get('/health', ({ session }) => {
        const empty = { values: { ...session.all() }, flash: { ...session.flashMessages.all() } }
        session.put('visits', 1)
        session.increment('visits')
        session.push('log', 'seen')
        session.flash('notice', 'not kept')
        session.regenerate()
        return { empty, skipped: session.skipped, values: session.all() }
      })
    })
    cleanup(close)
    const { sessionId } = (await client.post('/seed', {})).json()
    const stored = await manager.read(sessionId)
    const response = await client.get('/health')
    assert.deepEqual(response.json(), {
      empty: { values: {}, flash: {} },
      skipped: true,
      values: { visits: 2, log: ['seen'] },
    })
    assert.deepEqual(response.setCookies, [])
    assert.deepEqual(await manager.read(sessionId), stored)
    assert.deepEqual((await client.get('/read')).json(), {
      values: { cart: { items: 1 } },
      flash: { notice: 'saved' },
    })
  })

  test('refuse tag, untag and a writable initiate with E_SESSION_SKIPPED naming the route', async ({
    assert,
    cleanup,
  }) => {
    const { client, close } = await skippingApp((router) => {
      router.get('/health', async ({ session, request }) => {
        const action = request.input('action')
        if (action === 'tag') await session.tag(1)
        if (action === 'untag') await session.untag()
        if (action === 'tagOnCommit') session.tagOnCommit(1)
        if (action === 'initiate') await session.initiate(false)
        return 'not reached'
      })
    })
    cleanup(close)
    const expected = {
      tag: 'Cannot tag the session on "/health"',
      untag: 'Cannot untag the session on "/health"',
      tagOnCommit: 'Cannot tag the session on "/health"',
      initiate: 'Cannot open the session writable on "/health"',
    }
    for (const [action, start] of Object.entries(expected)) {
      const response = await client.get(`/health?action=${action}`)
      assert.equal(response.status, 500, action)
      assert.include(
        response.text,
        `${start}: the route is in the "skip" list of "config/session.ts"`,
        action
      )
    }
  })

  test('let the intended-URL redirects fall back on a skipped route', async ({
    assert,
    cleanup,
  }) => {
    const { client, close } = await skippingApp((router) => {
      router.get('/health', ({ response }) => response.redirect().toIntended('/fallback'))
    })
    cleanup(close)
    const response = await client.get('/health')
    assert.equal(response.status, 302)
    assert.equal(response.headers.get('location'), '/fallback')
  })
})

/**
 * What an auth guard throws for a guest: its `handle()` flashes a notice and
 * remembers the URL, after the session middleware returned on AdonisJS 7 when
 * a non-async handler threw it.
 */
class GuestError extends Exception {
  static status = 401

  /** Flash, remember the URL, redirect to sign in. */
  async handle(_: GuestError, ctx: HttpContext) {
    ctx.session.flash('notice', 'Sign in first')
    ctx.response.redirect().withIntendedUrl().toPath('/login')
  }
}

/**
 * A server middleware (outside the session middleware) that writes to the
 * session once the router middleware returned: a write after the commit, on
 * every AdonisJS major.
 */
class LateWriterMiddleware {
  async handle(ctx: HttpContext, next: () => Promise<void>) {
    await next()
    if (ctx.request.url() === '/late/outer') {
      ctx.session.put('late', 'kept')
      ctx.session.increment('visits')
    }
    if (ctx.request.url() === '/late/oversized') {
      ctx.session.put('huge', 'x'.repeat(5000))
    }
  }
}

/** Routes for the late-write tests. */
async function lateRoutes(router: Router, app: ApplicationService) {
  const server = await app.container.make('server')
  server.use([async () => ({ default: LateWriterMiddleware })])
  server.errorHandler(() => import('./fixtures/app_exception_handler.js'))
  router.get('/late/guarded', () => {
    throw new GuestError('Sign in first')
  })
  router.get('/late/oversized', () => 'sent')
  router.get('/late/outer', ({ session }) => {
    session.put('early', 'kept')
    return 'ok'
  })
}

for (const store of CORE_STORES) {
  test.group(`SessionMiddleware | writes after the commit on the ${store} store`, () => {
    test('keep a flash and the intended url set in the handle() of a sync throw', async ({
      assert,
      cleanup,
    }) => {
      const { client, close } = await createStoreApp(store, { routes: lateRoutes })
      cleanup(close)
      await client.post('/session/call', { calls: [['put', 'cart', [1, 2]]] })
      const guarded = await client.get('/late/guarded?tab=2')
      assert.equal(guarded.status, 302)
      const next = (await client.get('/session')).json()
      assert.deepEqual(next.flashMessages, { notice: 'Sign in first' })
      assert.deepEqual(next.values, {
        cart: [1, 2],
        redirect: { intendedUrl: '/late/guarded?tab=2' },
      })
    })

    test('store a new session that only late writes filled', async ({ assert, cleanup }) => {
      const { client, close } = await createStoreApp(store, { routes: lateRoutes })
      cleanup(close)
      const guarded = await client.get('/late/guarded')
      assert.equal(guarded.status, 302)
      assert.isAbove(client.jar.size, 0)
      const next = (await client.get('/session')).json()
      assert.deepEqual(next.flashMessages, { notice: 'Sign in first' })
      assert.deepEqual(next.values, { redirect: { intendedUrl: '/late/guarded' } })
    })

    test('keep what an outer middleware writes once the session committed', async ({
      assert,
      cleanup,
    }) => {
      const { client, close } = await createStoreApp(store, { routes: lateRoutes })
      cleanup(close)
      await client.post('/session/call', { calls: [['put', 'visits', 1]] })
      assert.equal((await client.get('/late/outer')).text, 'ok')
      const next = (await client.get('/session')).json()
      assert.deepEqual(next.values, { visits: 2, early: 'kept', late: 'kept' })
    })
  })
}

test.group('SessionMiddleware | late writes that cannot be saved', () => {
  test('send the response as made when saving late writes fails', async ({ assert, cleanup }) => {
    const { client, close } = await createStoreApp('cookie', { routes: lateRoutes })
    cleanup(close)
    await client.post('/session/call', { calls: [['put', 'cart', [1]]] })
    const response = await client.get('/late/oversized')
    assert.equal(response.status, 200)
    assert.equal(response.text, 'sent')
    for (const line of response.setCookies) {
      assert.isAtMost(line.split(';')[0].length, 4096)
    }
    assert.deepEqual((await client.get('/session')).json().values, { cart: [1] })
  })
})

/** The core exception handler with status pages on, as in production. */
class StatusPagesHandler extends ExceptionHandler {
  protected debug = false
  protected renderStatusPages = true
  protected statusPages = { '500..599': () => 'Something went wrong on our side' }
}

/** The core exception handler with its debug pages on, as in development. */
class DebugPagesHandler extends ExceptionHandler {
  protected debug = true
}

/** What E_SESSION_COOKIE_TOO_LARGE says about the 5,000 characters flashed. */
const TOO_LARGE = /^The session data cookie is \d+ bytes, over the 4096 bytes browsers keep/

/**
 * An app on the cookie store whose `POST /oversized` sets a cookie of its
 * own, flashes more than a cookie holds and redirects, so the commit fails
 * after the handler made a redirect; errors go to `handler` (by default the
 * app's handler as `node ace` generates it).
 */
async function oversizedRedirectApp(
  handler: () => Promise<{ default: new () => ExceptionHandler }> = () =>
    import('./fixtures/app_exception_handler.js')
) {
  return createStoreApp('cookie', {
    async routes(router, app) {
      const server = await app.container.make('server')
      server.errorHandler(handler)
      router.post('/oversized', ({ session, response }) => {
        response.plainCookie('theme', 'dark')
        session.flash('large', 'x'.repeat(5000))
        response.status(303).redirect('/back')
      })
    },
  })
}

test.group('SessionMiddleware | a commit that fails after the handler redirected', () => {
  test('answer html, json or json api as the request accepts, with the status, no redirect', async ({
    assert,
    cleanup,
  }) => {
    const { client, close } = await oversizedRedirectApp()
    cleanup(close)
    const html = await client.post('/oversized', {}, { accept: 'text/html' })
    const json = await client.post('/oversized', {}, { accept: 'application/json' })
    const jsonApi = await client.post('/oversized', {}, { accept: 'application/vnd.api+json' })
    for (const response of [html, json, jsonApi]) {
      assert.equal(response.status, 500)
      assert.isNull(response.headers.get('location'))
      assert.equal(response.headers.get('x-app-exception-handler'), 'handled')
    }
    assert.match(html.headers.get('content-type')!, /^text\/html/)
    assert.match(html.text, /^<p> The session data cookie is \d+ bytes/)
    assert.match(json.headers.get('content-type')!, /^application\/json/)
    assert.match(json.json().message, TOO_LARGE)
    const [error] = jsonApi.json().errors
    assert.equal(error.code, 'E_SESSION_COOKIE_TOO_LARGE')
    assert.equal(error.status, 500)
    assert.match(error.title, TOO_LARGE)
  })

  test('send none of the cookies of the failed commit and keep the session as it was', async ({
    assert,
    cleanup,
  }) => {
    const { client, close } = await oversizedRedirectApp()
    cleanup(close)
    const fresh = await client.post('/oversized', {}, { accept: 'application/json' })
    assert.deepEqual(
      fresh.setCookies.map((line) => line.split('=')[0]),
      ['theme']
    )
    await client.post('/session/call', { calls: [['put', 'cart', [1]]] })
    const cookies = new Map(client.jar)
    const existing = await client.post('/oversized', {}, { accept: 'application/json' })
    assert.equal(existing.status, 500)
    assert.deepEqual(
      existing.setCookies.map((line) => line.split('=')[0]),
      ['theme']
    )
    cookies.set('theme', client.jar.get('theme')!)
    assert.deepEqual(client.jar, cookies)
    const next = (await client.get('/session')).json()
    assert.deepEqual(next.values, { cart: [1] })
    assert.deepEqual(next.flashMessages, {})
  })

  test('render the status page with the error status instead of the redirect', async ({
    assert,
    cleanup,
  }) => {
    const { client, close } = await oversizedRedirectApp(async () => ({
      default: StatusPagesHandler,
    }))
    cleanup(close)
    const response = await client.post('/oversized', {}, { accept: 'text/html' })
    assert.equal(response.status, 500)
    assert.isNull(response.headers.get('location'))
    assert.equal(response.text, 'Something went wrong on our side')
  })

  test('name the error code on the debug page, as html or json', async ({ assert, cleanup }) => {
    const { client, close } = await oversizedRedirectApp(async () => ({
      default: DebugPagesHandler,
    }))
    cleanup(close)
    const html = await client.post('/oversized', {}, { accept: 'text/html' })
    const json = await client.post('/oversized', {}, { accept: 'application/json' })
    assert.equal(html.status, 500)
    assert.match(html.headers.get('content-type')!, /^text\/html/)
    assert.include(html.text, 'E_SESSION_COOKIE_TOO_LARGE')
    assert.equal(json.status, 500)
    assert.match(json.headers.get('content-type')!, /^application\/json/)
    assert.include(json.text, 'E_SESSION_COOKIE_TOO_LARGE')
    assert.isNull(json.headers.get('location'))
  })
})
