import { readdir, rm } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { test } from '@japa/runner'
import { CookieClient } from '../../tests_helpers/index.js'
import { fingerprint } from '../../src/debug.js'
import {
  createAppRoot,
  createSessionApp,
  migrateSessionsTable,
  newUser,
  runAce,
  storeConfigs,
  withLucid,
} from './helpers.js'

const SESSIONS_FOLDER = fileURLToPath(new URL('../../tmp/commands/destroy', import.meta.url))

const configs = storeConfigs(SESSIONS_FOLDER)

/** The session files left on disk. */
/** The session files in the folder (the store's `.spare` folder left out). */
const sessionFiles = () =>
  readdir(SESSIONS_FOLDER)
    .then((names) => names.filter((name) => name.endsWith('.txt')))
    .catch(() => [])

test.group('session:destroy', (group) => {
  group.each.setup(() => rm(SESSIONS_FOLDER, { recursive: true, force: true }))

  test('end a session by id so its cookie gets an empty session', async ({ assert, cleanup }) => {
    const appRoot = await createAppRoot(cleanup)
    const app = await createSessionApp(configs.file())
    cleanup(() => app.close())
    const browser = new CookieClient(app.url)
    const { id } = (await browser.get(`/login/${newUser()}`)).json()

    const { exitCode, output } = await runAce(appRoot, configs.file(), ['session:destroy', id])
    assert.equal(exitCode, 0)
    assert.equal(output, `[ green(success) ] Ended session ${fingerprint(id)}`)
    assert.notInclude(await sessionFiles(), `${id}.txt`)
    assert.isNull((await browser.get('/whoami')).json().name)
  })

  test('end one session of a user by the fingerprint session:list shows', async ({
    assert,
    cleanup,
  }) => {
    const appRoot = await createAppRoot(cleanup)
    const user = newUser()
    const app = await createSessionApp(configs.memory())
    cleanup(() => app.close())
    const laptop = new CookieClient(app.url)
    const phone = new CookieClient(app.url)
    const { id } = (await laptop.get(`/login/${user}`)).json()
    await phone.get(`/login/${user}`)

    const { exitCode, output } = await runAce(appRoot, configs.memory(), [
      'session:destroy',
      fingerprint(id),
      `--user=${user}`,
    ])
    assert.equal(exitCode, 0)
    assert.equal(output, `[ green(success) ] Ended session ${fingerprint(id)} of user "${user}"`)
    assert.isNull((await laptop.get('/whoami')).json().name)
    assert.equal((await phone.get('/whoami')).json().name, `user ${user}`)
  })

  test('end every session of a user and keep the others on the {$self} store')
    .with(['file', 'database'] as const)
    .run(async ({ assert, cleanup }, storeName) => {
      const appRoot = await createAppRoot(cleanup)
      const user = newUser()
      const extras = storeName === 'database' ? withLucid(appRoot) : {}
      if (storeName === 'database') await migrateSessionsTable(appRoot, configs.database())
      const app = await createSessionApp(configs[storeName](), extras)
      cleanup(() => app.close())
      const browsers = [new CookieClient(app.url), new CookieClient(app.url)]
      for (const browser of browsers) await browser.get(`/login/${user}`)
      const bystander = new CookieClient(app.url)
      await bystander.get(`/login/${user}-other`)

      const { exitCode, output } = await runAce(
        appRoot,
        configs[storeName](),
        ['session:destroy', `--user=${user}`],
        extras
      )
      assert.equal(exitCode, 0)
      assert.equal(output, `[ green(success) ] Ended 2 sessions of user "${user}"`)
      for (const browser of browsers) assert.isNull((await browser.get('/whoami')).json().name)
      assert.equal((await bystander.get('/whoami')).json().name, `user ${user}-other`)
      assert.deepEqual(await app.manager.tagged(user), [])
      assert.lengthOf(await app.manager.tagged(`${user}-other`), 1)
    })

  test('fail when no live session has the id', async ({ assert, cleanup }) => {
    const appRoot = await createAppRoot(cleanup)
    const { exitCode, output } = await runAce(appRoot, configs.file(), [
      'session:destroy',
      'AAAAAAAAAAAAAAAAAAAAAAAA',
    ])
    assert.equal(exitCode, 1)
    assert.include(output, 'No live session has this id in the "file" store')
  })

  test('fail when the user has no session with the fingerprint', async ({ assert, cleanup }) => {
    const appRoot = await createAppRoot(cleanup)
    const user = newUser()
    const app = await createSessionApp(configs.file())
    cleanup(() => app.close())
    await new CookieClient(app.url).get(`/login/${user}`)

    const { exitCode, output } = await runAce(appRoot, configs.file(), [
      'session:destroy',
      '0badf00d',
      `--user=${user}`,
    ])
    assert.equal(exitCode, 1)
    assert.include(output, `User "${user}" has no live session "0badf00d"`)
    assert.lengthOf(await sessionFiles(), 1)
  })

  test('fail without a session id or --user', async ({ assert, cleanup }) => {
    const appRoot = await createAppRoot(cleanup)
    const { exitCode, output } = await runAce(appRoot, configs.file(), ['session:destroy'])
    assert.equal(exitCode, 1)
    assert.include(output, 'Pass a session id, or --user=<id> to end the sessions of a user')
  })

  test('fail with the reason when the store cannot list sessions', async ({ assert, cleanup }) => {
    const appRoot = await createAppRoot(cleanup)
    const { exitCode, output } = await runAce(appRoot, configs.cookie(), [
      'session:destroy',
      '--user=1',
    ])
    assert.equal(exitCode, 1)
    assert.include(output, 'The "cookie" session store does not support tagging sessions')
  })
})
