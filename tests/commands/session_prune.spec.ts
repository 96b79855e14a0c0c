import { readdir, rm, utimes } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from '@japa/runner'
import { CookieClient } from '../../tests_helpers/index.js'
import { defineConfig, stores } from '../../index.js'
import {
  createAppRoot,
  createSessionApp,
  migrateSessionsTable,
  newUser,
  runAce,
  storeConfigs,
  withLucid,
} from './helpers.js'

const SESSIONS_FOLDER = fileURLToPath(new URL('../../tmp/commands/prune', import.meta.url))

const configs = storeConfigs(SESSIONS_FOLDER)

/** The session files in the folder (the store's `.spare` folder left out). */
const sessionFiles = async () =>
  (await readdir(SESSIONS_FOLDER)).filter((name) => name.endsWith('.txt'))

test.group('session:prune', (group) => {
  group.each.setup(() => rm(SESSIONS_FOLDER, { recursive: true, force: true }))

  test('delete expired session files and print how many', async ({ assert, cleanup }) => {
    const appRoot = await createAppRoot(cleanup)
    const app = await createSessionApp(configs.file())
    cleanup(() => app.close())
    const ids: string[] = []
    for (let index = 0; index < 3; index++) {
      ids.push((await new CookieClient(app.url).get(`/login/${newUser()}`)).json().id)
    }
    const threeHoursAgo = new Date(Date.now() - 3 * 3600_000)
    for (const id of ids.slice(0, 2)) {
      await utimes(join(SESSIONS_FOLDER, `${id}.txt`), threeHoursAgo, threeHoursAgo)
    }

    const { exitCode, output } = await runAce(appRoot, configs.file(), ['session:prune'])
    assert.equal(exitCode, 0)
    assert.equal(output, '[ green(success) ] Removed 2 expired sessions from the "file" store')
    assert.deepEqual(await sessionFiles(), [`${ids[2]}.txt`])
  })

  test('delete expired rows of the database store', async ({ assert, cleanup }) => {
    const appRoot = await createAppRoot(cleanup)
    const lucid = withLucid(appRoot)
    await migrateSessionsTable(appRoot, configs.database())
    const app = await createSessionApp(configs.database(), lucid)
    cleanup(() => app.close())
    const expired = (await new CookieClient(app.url).get(`/login/${newUser()}`)).json().id
    const live = (await new CookieClient(app.url).get(`/login/${newUser()}`)).json().id
    const db = await app.app.container.make('lucid.db')
    await db
      .from('sessions')
      .where('id', expired)
      .update({ expires_at: new Date(Date.now() - 1000) })

    const { exitCode, output } = await runAce(appRoot, configs.database(), ['session:prune'], lucid)
    assert.equal(exitCode, 0)
    assert.equal(output, '[ green(success) ] Removed 1 expired session from the "database" store')
    const rows = await db.from('sessions').select('id')
    assert.deepEqual(
      rows.map((row) => row.id),
      [live]
    )
  })

  test('prune the store named by --store', async ({ assert, cleanup }) => {
    const appRoot = await createAppRoot(cleanup)
    const app = await createSessionApp(configs.file())
    cleanup(() => app.close())
    const { id } = (await new CookieClient(app.url).get(`/login/${newUser()}`)).json()
    const longAgo = new Date(Date.now() - 24 * 3600_000)
    await utimes(join(SESSIONS_FOLDER, `${id}.txt`), longAgo, longAgo)
    const cookieFirst = defineConfig({
      store: 'cookie',
      stores: { cookie: stores.cookie(), file: stores.file({ location: SESSIONS_FOLDER }) },
    })

    const { exitCode, output } = await runAce(appRoot, cookieFirst, [
      'session:prune',
      '--store=file',
    ])
    assert.equal(exitCode, 0)
    assert.equal(output, '[ green(success) ] Removed 1 expired session from the "file" store')
    assert.deepEqual(await sessionFiles(), [])
  })

  test('say there is nothing to prune on a store that expires sessions itself', async ({
    assert,
    cleanup,
  }) => {
    const appRoot = await createAppRoot(cleanup)
    const { exitCode, output } = await runAce(appRoot, configs.cookie(), ['session:prune'])
    assert.equal(exitCode, 0)
    assert.equal(
      output,
      '[ blue(info) ] The "cookie" store removes expired sessions on its own: nothing to prune'
    )
  })

  test('fail with the configured stores when --store names none', async ({ assert, cleanup }) => {
    const appRoot = await createAppRoot(cleanup)
    const { exitCode, output } = await runAce(appRoot, configs.file(), [
      'session:prune',
      '--store=nope',
    ])
    assert.equal(exitCode, 1)
    assert.include(output, 'there is no store named "nope". Choose one of: memory, file')
  })
})
