import { rm } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { test } from '@japa/runner'
import { CookieClient } from '../../tests_helpers/index.js'
import { fingerprint } from '../../src/debug.js'
import { METADATA_KEY } from '../../src/payload.js'
import {
  createAppRoot,
  createSessionApp,
  migrateSessionsTable,
  newUser,
  runAce,
  storeConfigs,
  withLucid,
} from './helpers.js'

const SESSIONS_FOLDER = fileURLToPath(new URL('../../tmp/commands/list', import.meta.url))

const configs = storeConfigs(SESSIONS_FOLDER)

test.group('session:list', (group) => {
  group.each.setup(() => rm(SESSIONS_FOLDER, { recursive: true, force: true }))

  test('print the sessions of a user on the {$self} store')
    .with(['file', 'memory', 'database'] as const)
    .run(async ({ assert, cleanup }, storeName) => {
      const appRoot = await createAppRoot(cleanup)
      const user = newUser()
      const extras = storeName === 'database' ? withLucid(appRoot) : {}
      if (storeName === 'database') await migrateSessionsTable(appRoot, configs.database())
      const app = await createSessionApp(configs[storeName](), extras)
      cleanup(() => app.close())
      const laptop = await new CookieClient(app.url).get(`/login/${user}`, {
        'user-agent': 'Laptop/1.0',
      })
      const phone = await new CookieClient(app.url).get(`/login/${user}`, {
        'user-agent': 'Phone/2.0',
      })
      await new CookieClient(app.url).get(`/login/${user}-other`, { 'user-agent': 'Other/3.0' })

      const { exitCode, output } = await runAce(
        appRoot,
        configs[storeName](),
        ['session:list', `--user=${user}`],
        extras
      )
      assert.equal(exitCode, 0)
      const rows = output.split('\n')
      assert.equal(rows[0], 'Session|Created (UTC)|Last seen (UTC)|IP address|User agent')
      assert.lengthOf(rows, 3)
      assert.match(
        rows[1],
        new RegExp(
          `^${fingerprint(phone.json().id)}\\|\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\|`
        )
      )
      assert.isTrue(rows.some((row) => row.startsWith(fingerprint(laptop.json().id))))
      assert.include(output, '|127.0.0.1|Laptop/1.0')
      assert.include(output, '|127.0.0.1|Phone/2.0')
      assert.notInclude(output, laptop.json().id)
      assert.notInclude(output, phone.json().id)
    })

  test('print the full session ids with --show-ids', async ({ assert, cleanup }) => {
    const appRoot = await createAppRoot(cleanup)
    const user = newUser()
    const app = await createSessionApp(configs.file())
    cleanup(() => app.close())
    const login = await new CookieClient(app.url).get(`/login/${user}`)

    const { output } = await runAce(appRoot, configs.file(), [
      'session:list',
      `--user=${user}`,
      '--show-ids',
    ])
    assert.include(output, `\n${login.json().id}|`)
  })

  test('strip terminal escape sequences from the user agent', async ({ assert, cleanup }) => {
    const appRoot = await createAppRoot(cleanup)
    const user = newUser()
    const app = await createSessionApp(configs.memory())
    cleanup(() => app.close())
    const store = app.manager.store()
    const now = Date.now()
    await store.write('AAAAAAAAAAAAAAAAAAAAAAAA', {
      [METADATA_KEY]: {
        createdAt: now,
        lastSeenAt: now,
        userAgent: 'Evil\u001b[2J\u001b]0;pwned\u0007/1.0',
      },
    })
    await app.manager.tag('AAAAAAAAAAAAAAAAAAAAAAAA', user)

    const { output } = await runAce(appRoot, configs.memory(), ['session:list', `--user=${user}`])
    assert.include(output, '|Evil[2J]0;pwned/1.0')
    const controls = [...output].filter((char) => char !== '\n' && /\p{Cc}/u.test(char))
    assert.deepEqual(controls, [])
  })

  test('say when the user has no live sessions', async ({ assert, cleanup }) => {
    const appRoot = await createAppRoot(cleanup)
    const { exitCode, output } = await runAce(appRoot, configs.file(), [
      'session:list',
      '--user=nobody',
    ])
    assert.equal(exitCode, 0)
    assert.equal(output, '[ blue(info) ] User "nobody" has no live sessions in the "file" store')
  })

  test('fail with the reason on the cookie store', async ({ assert, cleanup }) => {
    const appRoot = await createAppRoot(cleanup)
    const { exitCode, output } = await runAce(appRoot, configs.cookie(), [
      'session:list',
      '--user=1',
    ])
    assert.equal(exitCode, 1)
    assert.include(
      output,
      '[ red(error) ] The "cookie" session store does not support tagging sessions'
    )
  })

  test('require the --user flag', async ({ assert, cleanup }) => {
    const appRoot = await createAppRoot(cleanup)
    const { exitCode, output } = await runAce(appRoot, configs.file(), ['session:list'])
    assert.equal(exitCode, 1)
    assert.include(output, 'Missing required option "user"')
  })
})
