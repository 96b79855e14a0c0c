import { test } from '@japa/runner'
import { adonisMajor } from '../src/framework.js'
import { defineConfig } from '../src/define_config.js'
import { SessionManager } from '../src/session_manager.js'
import SessionMiddleware from '../src/session_middleware.js'
import { CookieClient, createTestApp } from '../tests_helpers/index.js'
import { createStoreApp } from '../tests_helpers/store_matrix.js'

test.group('SessionProvider', () => {
  test('register the manager and the middleware as container singletons', async ({
    assert,
    cleanup,
  }) => {
    const { app, manager, close } = await createStoreApp('memory')
    cleanup(close)
    assert.isTrue(app.container.hasBinding('session.manager'))
    assert.isTrue(app.container.hasBinding(SessionManager))
    const middleware = await app.container.make(SessionMiddleware)
    assert.instanceOf(middleware, SessionMiddleware)
    assert.strictEqual(await app.container.make(SessionMiddleware), middleware)
    assert.strictEqual(await app.container.make('session.manager'), manager)
  })

  test('resolve the session config while the app boots', async ({ assert, cleanup }) => {
    let resolved = 0
    const { close } = await createTestApp({
      session: defineConfig({
        store: 'custom',
        stores: {
          custom: {
            type: 'provider',
            async resolver() {
              resolved++
              return () => {
                throw new Error('never used')
              }
            },
          },
        },
      }),
    })
    cleanup(close)
    assert.equal(resolved, 1)
  })

  test('fail the boot when the app key is shorter than 16 characters', async ({ assert }) => {
    const error = await createTestApp({
      session: defineConfig({ store: 'memory', stores: {} }),
      appKey: 'short',
    }).catch((failure) => failure)
    assert.equal(error.code, 'E_SESSION_INVALID_APP_KEY')
    assert.equal(error.status, 500)
    assert.include(
      error.message,
      adonisMajor === 7 ? '"config/encryption.ts" needs a key' : 'APP_KEY must be at least 16'
    )
  })

  test('serve sessions through the registered middleware until the app terminates', async ({
    assert,
  }) => {
    const { url, app, close } = await createTestApp({
      session: defineConfig({ store: 'memory', stores: {} }),
      routes(router) {
        router.get('/', ({ session }) => {
          session.increment('n')
          return { n: session.get('n') }
        })
      },
    })
    const client = new CookieClient(url)
    await client.get('/')
    assert.deepEqual((await client.get('/')).json(), { n: 2 })
    await close()
    assert.isTrue(app.isTerminated)
  })
})
