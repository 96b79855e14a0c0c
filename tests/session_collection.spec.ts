import { rm } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { test } from '@japa/runner'
import { SessionCollection as OfficialSessionCollection } from 'adonisjs-session-official'
import { createTestApp, CookieClient } from '../tests_helpers/index.js'
import { defineConfig, SessionCollection, stores } from '../index.js'

const SESSIONS_FOLDER = fileURLToPath(new URL('../tmp/session_collection', import.meta.url))

/**
 * An app on the file store whose `/login/:user` route stores a name, tags the
 * session and returns its id.
 */
async function createApp(
  session: unknown = defineConfig({
    store: 'file',
    stores: { file: stores.file({ location: SESSIONS_FOLDER }) },
  })
) {
  return createTestApp({
    session,
    routes: (router) => {
      router.get('/login/:user', async (ctx) => {
        ctx.session.put('name', `user ${ctx.params.user}`)
        await ctx.session.tag(ctx.params.user)
        return { id: ctx.session.sessionId }
      })
      router.get('/visit', (ctx) => {
        ctx.session.put('visited', true)
        return { id: ctx.session.sessionId }
      })
      router.get('/whoami', (ctx) => ({ name: ctx.session.get('name') ?? null }))
    },
  })
}

test.group('SessionCollection', (group) => {
  group.each.setup(() => rm(SESSIONS_FOLDER, { recursive: true, force: true }))

  test('offer every public method of @adonisjs/session 7.x SessionCollection', ({ assert }) => {
    const methods = (prototype: object) =>
      Object.getOwnPropertyNames(prototype)
        .filter((name) => name !== 'constructor')
        .sort()
    assert.includeMembers(
      methods(SessionCollection.prototype),
      methods(OfficialSessionCollection.prototype)
    )
  })

  test('resolve one instance from the container by its class', async ({ assert, cleanup }) => {
    const { app, close } = await createApp()
    cleanup(close)
    const collection = await app.container.make(SessionCollection)
    assert.instanceOf(collection, SessionCollection)
    assert.strictEqual(await app.container.make(SessionCollection), collection)
  })

  test('get the values of a session and null for an unknown id', async ({ assert, cleanup }) => {
    const { app, url, close } = await createApp()
    cleanup(close)
    const { id } = (await new CookieClient(url).get('/login/7')).json()
    const collection = await app.container.make(SessionCollection)
    assert.deepEqual(await collection.get(id), { name: 'user 7' })
    assert.isNull(await collection.get('AAAAAAAAAAAAAAAAAAAAAAAA'))
    assert.isNull(await collection.get('../../etc/passwd'))
  })

  test('destroy a session so its cookie gets an empty session', async ({ assert, cleanup }) => {
    const { app, url, close } = await createApp()
    cleanup(close)
    const browser = new CookieClient(url)
    const { id } = (await browser.get('/login/7')).json()
    await (await app.container.make(SessionCollection)).destroy(id)
    assert.isNull((await browser.get('/whoami')).json().name)
  })

  test('tag a session and list it among the sessions of the user', async ({ assert, cleanup }) => {
    const { app, url, close } = await createApp()
    cleanup(close)
    const { id } = (await new CookieClient(url).get('/visit')).json()
    const collection = await app.container.make(SessionCollection)
    assert.isTrue(collection.supportsTagging())
    await collection.tag(id, 'user-9')
    const sessions = await collection.tagged('user-9')
    assert.deepEqual(
      sessions.map(({ id: sessionId, data }) => ({ id: sessionId, data })),
      [{ id, data: { visited: true } }]
    )
    assert.deepEqual(await collection.tagged('user-10'), [])
  })

  test('report that the cookie store cannot tag sessions', async ({ assert, cleanup }) => {
    const { app, close } = await createApp(
      defineConfig({ store: 'cookie', stores: { cookie: stores.cookie() } })
    )
    cleanup(close)
    const collection = await app.container.make(SessionCollection)
    assert.isFalse(collection.supportsTagging())
    await assert.rejects(
      () => collection.tagged('1'),
      'The "cookie" session store does not support tagging sessions. Use the memory, file, redis, dynamodb or database store to list and end a user\'s sessions'
    )
  })
})
