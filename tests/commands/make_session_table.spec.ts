import { readdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { test } from '@japa/runner'
import { createTestApp } from '../../tests_helpers/index.js'
import { createAppRoot, runAce, storeConfigs, withLucid } from './helpers.js'

const session = storeConfigs(
  fileURLToPath(new URL('../../tmp/commands/table', import.meta.url))
).memory

test.group('make:session-table', () => {
  test('create the migration of the sessions table', async ({ assert, cleanup }) => {
    const appRoot = await createAppRoot(cleanup)
    const before = Date.now()
    const { exitCode, output } = await runAce(appRoot, session(), ['make:session-table'])
    assert.equal(exitCode, 0)
    const [file] = await readdir(fileURLToPath(new URL('./database/migrations', appRoot)))
    assert.match(file, /^\d{13}_create_sessions_table\.ts$/)
    assert.isAtLeast(Number(file.slice(0, 13)), before)
    assert.include(output, `database/migrations/${file}`)
    const contents = await readFile(
      fileURLToPath(new URL(`./database/migrations/${file}`, appRoot)),
      'utf8'
    )
    assert.include(contents, "protected tableName = 'sessions'")
  })

  test('the migration creates the columns of @adonisjs/session', async ({ assert, cleanup }) => {
    const appRoot = await createAppRoot(cleanup)
    const lucid = withLucid(appRoot)
    await runAce(appRoot, session(), ['make:session-table'], lucid)
    const migrated = await runAce(appRoot, session(), ['migration:run'], lucid)
    assert.equal(migrated.exitCode, 0, migrated.output)

    const app = await createTestApp({ session: session(), ...lucid })
    cleanup(() => app.close())
    const db = await app.app.container.make('lucid.db')
    const columns = await db.rawQuery(
      "select name, type, pk, `notnull` from pragma_table_info('sessions')"
    )
    const indexes = await db.rawQuery("select name from pragma_index_list('sessions')")
    assert.deepEqual(columns, [
      { name: 'id', type: 'varchar(255)', pk: 1, notnull: 0 },
      { name: 'data', type: 'TEXT', pk: 0, notnull: 1 },
      { name: 'user_id', type: 'varchar(255)', pk: 0, notnull: 0 },
      { name: 'expires_at', type: 'datetime', pk: 0, notnull: 1 },
    ])
    assert.includeMembers(
      indexes.map((index: any) => index.name),
      ['sessions_user_id_index', 'sessions_expires_at_index']
    )
  })

  test('name the table and the file with --table-name', async ({ assert, cleanup }) => {
    const appRoot = await createAppRoot(cleanup)
    const { exitCode } = await runAce(appRoot, session(), [
      'make:session-table',
      '--table-name=user_sessions',
    ])
    assert.equal(exitCode, 0)
    const [file] = await readdir(fileURLToPath(new URL('./database/migrations', appRoot)))
    assert.match(file, /^\d{13}_create_user_sessions_table\.ts$/)
    const contents = await readFile(
      fileURLToPath(new URL(`./database/migrations/${file}`, appRoot)),
      'utf8'
    )
    assert.include(contents, "protected tableName = 'user_sessions'")
  })

  test('refuse a table name that is not an identifier', async ({ assert, cleanup }) => {
    const appRoot = await createAppRoot(cleanup)
    const { exitCode, output } = await runAce(appRoot, session(), [
      'make:session-table',
      '--table-name=sessions; drop table users',
    ])
    assert.equal(exitCode, 1)
    assert.include(output, 'is not a valid table name')
    await assert.rejects(() => readdir(fileURLToPath(new URL('./database/migrations', appRoot))))
  })
})
