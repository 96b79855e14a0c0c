import { rm } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { test } from '@japa/runner'
import { Emitter, Runner } from '@japa/runner/core'
import vine from '@vinejs/vine'
import { ApiClient, type ApiResponse } from '@japa/api-client'
import { pluginAdonisJS } from '@japa/plugin-adonisjs'
import { ExceptionHandler, type Router } from '@adonisjs/core/http'
import type { ApplicationService } from '@adonisjs/core/types'
import type { Assert } from '@japa/assert'
import { BASE_URL, createTestApp, type TestApp } from '../../tests_helpers/index.js'
import { defineConfig, stores } from '../../index.js'
import { sessionApiClient } from '../../src/plugins/japa/api_client.js'

const SESSIONS_FOLDER = fileURLToPath(new URL('api-client-sessions', BASE_URL))

const signUpValidator = vine.compile(
  vine.object({ email: vine.string().email(), name: vine.string().minLength(3) })
)

/**
 * The routes the tests call: read, write and flash session values. The app
 * uses the core exception handler, as generated apps do.
 */
async function routes(router: Router, app: ApplicationService) {
  const server = await app.container.make('server')
  server.errorHandler(async () => ({ default: ExceptionHandler }))
  router.get('/store', ({ session }) => ({ store: session.storeName }))
  router.get('/read', ({ session }) => ({
    values: session.all(),
    flash: session.flashMessages.all(),
  }))
  router.get('/write', ({ session }) => {
    session.put('visits', 1)
    session.put('user', { id: 7, roles: ['admin'] })
  })
  router.get('/flash', ({ session }) => {
    session.flash('notification', { type: 'success', text: 'Saved' })
  })
  router.get('/regenerate', ({ session }) => session.regenerate())
  router.get('/sign-in', ({ session, response }) => {
    session.put('userId', 42)
    response.redirect('/me')
  })
  router.get('/me', ({ session }) => ({ userId: session.get('userId') ?? null }))
  router.post('/sign-up', async ({ request }) => request.validateUsing(signUpValidator))
}

/**
 * A real app whose config uses the cookie store, the session plugin of the API
 * client run on it, and an API client that talks to it.
 */
async function setup(assert: Assert, cleanup: (handler: () => Promise<void>) => void) {
  const testApp: TestApp = await createTestApp({
    session: defineConfig({
      store: 'cookie',
      stores: {
        cookie: stores.cookie(),
        file: stores.file({ location: SESSIONS_FOLDER }),
      },
    }),
    providers: [() => import('@adonisjs/core/providers/vinejs_provider')],
    routes,
  })
  cleanup(async () => {
    await testApp.close()
    await rm(SESSIONS_FOLDER, { recursive: true, force: true })
  })
  await sessionApiClient(testApp.app)({} as any)
  return { ...testApp, client: new ApiClient(testApp.url, assert) }
}

/**
 * The session id the Set-Cookie header of a response carries.
 */
function returnedSessionId(response: ApiResponse): string | null {
  const lines: string[] = [response.header('set-cookie') ?? []].flat()
  const line = lines.find((value) => value.startsWith('adonis_session='))
  return response.request.sessionClient.readSessionId(line?.split(';')[0].split('=')[1])
}

test.group('sessionApiClient', () => {
  test('switch the app to the memory store', async ({ assert, cleanup }) => {
    const { client, manager } = await setup(assert, cleanup)
    const response = await client.get('/store')
    assert.deepEqual(response.body(), { store: 'memory' })
    assert.equal(manager.storeName, 'memory')
  })

  test('send the values given to withSession to the app', async ({ assert, cleanup }) => {
    const { client } = await setup(assert, cleanup)
    const response = await client.get('/read').withSession({ cart: [1, 2], user: { id: 3 } })
    assert.deepEqual(response.body().values, { cart: [1, 2], user: { id: 3 } })
  })

  test('send withFlashMessages as the flash messages of the previous request', async ({
    assert,
    cleanup,
  }) => {
    const { client } = await setup(assert, cleanup)
    const response = await client.get('/read').withFlashMessages({ notice: 'Welcome' })
    assert.deepEqual(response.body().flash, { notice: 'Welcome' })
    assert.deepEqual(response.body().values, {})
  })

  test('read the values the app stored, whole or by dot path', async ({ assert, cleanup }) => {
    const { client } = await setup(assert, cleanup)
    const response = await client.get('/write').withSession({ cart: [1] })
    assert.deepEqual(response.session(), {
      cart: [1],
      visits: 1,
      user: { id: 7, roles: ['admin'] },
    })
    assert.equal(response.session('user.id'), 7)
    response.assertSession('visits', 1)
    response.assertSession('user.roles', ['admin'])
    response.assertSessionMissing('user.name')
  })

  test('read the flash messages the app left for the next request', async ({ assert, cleanup }) => {
    const { client } = await setup(assert, cleanup)
    const response = await client.get('/flash')
    assert.deepEqual(response.flashMessages(), {
      notification: { type: 'success', text: 'Saved' },
    })
    assert.equal(response.flashMessage('notification.text'), 'Saved')
    response.assertFlashMessage('notification', { type: 'success', text: 'Saved' })
    response.assertFlashMessage('notification.type', 'success')
    response.assertFlashMissing('errors')
  })

  test('fail session assertions with the key and what the session holds', async ({
    assert,
    cleanup,
  }) => {
    const { client } = await setup(assert, cleanup)
    const response = await client.get('/write')
    assert.throws(
      () => response.assertSession('cart'),
      /expected the session to hold "cart", got \{"visits":1/
    )
    assert.throws(() => response.assertSession('visits', 2), /expected 1 to deeply equal 2/)
    assert.throws(
      () => response.assertSessionMissing('user.id'),
      'expected the session not to hold "user.id", got {"visits":1,"user":{"id":7,"roles":["admin"]}}'
    )
    assert.throws(() => response.assertFlashMessage('notification'), /flash messages to hold/)
  })

  test('assert the validation errors of a failed form', async ({ assert, cleanup }) => {
    const { client } = await setup(assert, cleanup)
    const response = await client
      .post('/sign-up')
      .form({ email: 'not-an-email', name: 'Ada' })
      .redirects(0)
    response.assertStatus(302)
    response.assertHasValidationError('email')
    response.assertDoesNotHaveValidationError('name')
    response.assertValidationError('email', 'The email field must be a valid email address')
    response.assertValidationErrors('email', ['The email field must be a valid email address'])
    response.assertFlashMessage('email', 'not-an-email')
    assert.throws(() => response.assertHasValidationError('name'))
  })

  test('keep one session across the redirects the client follows', async ({ assert, cleanup }) => {
    const { client, url } = await setup(assert, cleanup)
    const response = await client.get('/sign-in')
    assert.deepEqual(response.redirects(), [`${url}/me`])
    assert.deepEqual(response.body(), { userId: 42 })
    response.assertSession('userId', 42)
  })

  test('follow the session to its new id when the app regenerates it', async ({
    assert,
    cleanup,
  }) => {
    const { client } = await setup(assert, cleanup)
    const response = await client.get('/regenerate').withSession({ cart: [5] })
    assert.notEqual(returnedSessionId(response), response.request.sessionClient.sessionId)
    response.assertSession('cart', [5])
  })

  test('end the seeded and the returned sessions after the response', async ({
    assert,
    cleanup,
  }) => {
    const { client, manager } = await setup(assert, cleanup)
    const response = await client.get('/regenerate').withSession({ cart: [5] })
    const returnedId = returnedSessionId(response)
    assert.isString(returnedId)
    assert.isNull(await manager.read(response.request.sessionClient.sessionId))
    assert.isNull(await manager.read(returnedId!))
  })

  test('refuse to seed the cookie store', async ({ assert, cleanup }) => {
    const { app, manager } = await setup(assert, cleanup)
    await assert.rejects(
      () => sessionApiClient(app, { store: 'cookie' })({} as any),
      'Cannot use the Japa session plugins: the "cookie" store keeps its data in the browser cookie, so a test cannot seed it. Leave the "store" option unset (memory) or name a server-side store'
    )
    assert.equal(manager.storeName, 'memory')
  })

  test('name the configured stores when the store is unknown', async ({ assert, cleanup }) => {
    const { app, manager } = await setup(assert, cleanup)
    await assert.rejects(
      () => sessionApiClient(app, { store: 'redis' })({} as any),
      /there is no store named "redis"\. Choose one of: memory, cookie, file/
    )
    assert.equal(manager.storeName, 'memory')
  })

  test('seed another server-side store when named', async ({ assert, cleanup }) => {
    const { client, app, manager } = await setup(assert, cleanup)
    await sessionApiClient(app, { store: 'file' })({} as any)
    const response = await client.get('/read').withSession({ cart: [8] })
    assert.deepEqual(response.body().values, { cart: [8] })
    assert.equal(manager.storeName, 'file')
  })

  test('say how to fix session assertions without @japa/assert', async ({ assert, cleanup }) => {
    const { url } = await setup(assert, cleanup)
    const response = await new ApiClient(url).get('/write')
    assert.throws(
      () => response.assertSession('visits'),
      'Cannot use the Japa session plugins: session assertions need @japa/assert. Add "assert()" to the plugins in "tests/bootstrap.ts"'
    )
  })

  test('work next to the cookie serializer of @japa/plugin-adonisjs', async ({
    assert,
    cleanup,
  }) => {
    const { client, app } = await setup(assert, cleanup)
    await pluginAdonisJS(app)({ runner: new Runner(new Emitter()) } as any)
    cleanup(async () => {
      ApiClient.cookiesSerializer(undefined as any)
    })
    const response = await client.get('/write').withSession({ cart: [9] })
    assert.equal(response.cookie('adonis_session')?.value, response.request.sessionClient.sessionId)
    response.assertSession('cart', [9])
    response.assertSession('visits', 1)
  })
})
