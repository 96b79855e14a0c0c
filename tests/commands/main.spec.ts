import { test } from '@japa/runner'
import { getCommand, getMetaData } from '../../commands/main.js'
import SessionList from '../../commands/session_list.js'

test.group('commands loader', () => {
  test('list the metadata of every command', async ({ assert }) => {
    const metaData = await getMetaData()
    assert.deepEqual(
      metaData.map(({ commandName }) => commandName),
      ['session:prune', 'session:list', 'session:destroy', 'make:session-table']
    )
    const list = metaData.find(({ commandName }) => commandName === 'session:list')!
    assert.deepEqual(list.options, { startApp: true })
    assert.deepEqual(
      list.flags.map(({ flagName, required }) => [flagName, required ?? false]),
      [
        ['store', false],
        ['user', true],
        ['show-ids', false],
      ]
    )
  })

  test('return the command class by name and null for an unknown name', async ({ assert }) => {
    assert.strictEqual(await getCommand({ commandName: 'session:list' }), SessionList)
    assert.isNull(await getCommand({ commandName: 'session:nope' }))
  })
})
