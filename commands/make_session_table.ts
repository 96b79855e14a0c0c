import { BaseCommand, flags } from '@adonisjs/core/ace'
import { stubsRoot } from '../stubs/main.js'

/**
 * Table names the migration accepts: a SQL identifier, optionally schema-qualified.
 */
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/

/**
 * `node ace make:session-table`: create the Lucid migration of the table the
 * database store uses (id, data, user_id, expires_at; the same columns as
 * @adonisjs/session).
 */
export default class MakeSessionTable extends BaseCommand {
  static commandName = 'make:session-table'
  static description = 'Create a migration for the sessions table of the database store'
  static help = [
    'Then run "{{ binaryName }} migration:run".',
    '{{ binaryName }} make:session-table',
    '{{ binaryName }} make:session-table --table-name=user_sessions',
  ]

  @flags.string({
    description: 'Name of the table; pass the same "tableName" to stores.database()',
    default: 'sessions',
  })
  declare tableName: string

  /** Write database/migrations/<timestamp>_create_<table>_table.ts. */
  async run(): Promise<void> {
    if (!TABLE_NAME.test(this.tableName)) {
      this.logger.error(
        `"${this.tableName}" is not a valid table name: use letters, digits and underscores, e.g. "sessions"`
      )
      this.exitCode = 1
      return
    }
    const codemods = await this.createCodemods()
    await codemods.makeUsingStub(stubsRoot, 'make/migration/sessions.stub', {
      migration: { tableName: this.tableName, prefix: Date.now() },
    })
  }
}
