import { test } from '@japa/runner'
import { stores } from '../src/define_config.js'
import { createEcosystemApp, type EcosystemApp } from '../tests_helpers/ecosystem/app.js'
import { AppBrowser } from './ecosystem/helpers.js'

/**
 * The ids of a user's sessions the store lists.
 */
async function taggedIds(app: EcosystemApp, email: string): Promise<string[]> {
  const user = await app.db.from('users').where('email', email).firstOrFail()
  return (await app.manager.tagged(user.id)).map(({ id }) => id)
}

test.group('auth.tagSessions | sessions @adonisjs/auth logs in', () => {
  test('tag nothing unless the config asks for it', async ({ assert, cleanup }) => {
    const app = await createEcosystemApp({ auth: undefined })
    cleanup(() => app.close())
    const browser = new AppBrowser(app.url)
    await browser.register('ada@example.com')
    assert.equal((await browser.whoAmI()).email, 'ada@example.com')
    assert.deepEqual(await taggedIds(app, 'ada@example.com'), [])
  })

  test('follow only the listed guards', async ({ assert, cleanup }) => {
    const app = await createEcosystemApp({ auth: { tagSessions: true, guards: ['admin'] } })
    cleanup(() => app.close())
    await new AppBrowser(app.url).register('ada@example.com')
    assert.deepEqual(await taggedIds(app, 'ada@example.com'), [])
  })

  test('keep the tag through a new login on the file store: the old id is gone, the new one tagged', async ({
    assert,
    cleanup,
  }) => {
    const app = await createEcosystemApp({ store: 'file' })
    cleanup(() => app.close())
    const browser = new AppBrowser(app.url)
    await browser.register('ada@example.com')
    const first = (await browser.whoAmI()).sessionId!
    assert.deepEqual(await taggedIds(app, 'ada@example.com'), [first])
    await browser.login('ada@example.com')
    const second = (await browser.whoAmI()).sessionId!
    assert.notEqual(second, first)
    assert.deepEqual(await taggedIds(app, 'ada@example.com'), [second])
    const user = await app.db.from('users').where('email', 'ada@example.com').firstOrFail()
    const [listed] = await app.manager.tagged(user.id)
    assert.equal(listed.metadata?.userId, String(user.id))
    assert.equal(listed.data.auth_web, user.id)
  })

  test('fail the boot on a store that cannot tag, naming the fix', async ({ assert }) => {
    await assert.rejects(
      () => createEcosystemApp({ store: 'cookie', stores: { cookie: stores.cookie() } }),
      /"auth.tagSessions" needs a store that can tag sessions, and the "cookie" store cannot/
    )
  })

  test('record the user in the cookie with cookieRevocation, so revoking ends the login', async ({
    assert,
    cleanup,
  }) => {
    let validAfter = 0
    const app = await createEcosystemApp({
      store: 'cookie',
      stores: { cookie: stores.cookie() },
      cookieRevocation: { validAfter: () => validAfter },
    })
    cleanup(() => app.close())
    const browser = new AppBrowser(app.url)
    await browser.register('ada@example.com')
    assert.equal((await browser.whoAmI()).email, 'ada@example.com')
    validAfter = Date.now() + 1
    assert.equal((await browser.whoAmI()).status, 401)
  })
})
