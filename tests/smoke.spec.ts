import { test } from '@japa/runner'
import { createTestApp, CookieClient } from '../tests_helpers/index.js'
import { defineConfig, stores } from '../index.js'

test.group('smoke', () => {
  test('a session survives two requests', async ({ assert, cleanup }) => {
    const app = await createTestApp({
      session: defineConfig({ store: 'cookie', stores: { cookie: stores.cookie() } }),
      routes: (router) => {
        router.get('/inc', ({ session }) => {
          session.increment('visits')
          return { visits: session.get('visits') }
        })
      },
    })
    cleanup(() => app.close())
    const client = new CookieClient(app.url)
    assert.equal((await client.get('/inc')).json().visits, 1)
    const second = await client.get('/inc')
    console.log(second.setCookies)
    assert.equal(second.json().visits, 2)
  })
})
