import { mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import { MigrationRunner } from '@adonisjs/lucid/migration'
import User from '../app/models/user.js'

/**
 * The accounts the sign-in form offers. Created on start when missing.
 */
const DEMO_USERS = [
  { name: 'Demo User', email: 'demo@example.com', password: 'secret-password' },
  { name: 'Ada Lovelace', email: 'ada@example.com', password: 'analytical-engine' },
]

/**
 * Bring the SQLite database up to date before the server answers: create its
 * folder, run the pending migrations of database/migrations (what
 * `node ace migration:run` does in an app) and seed the demo users.
 */
const { filename } = db.getRawConnection('sqlite')!.config.connection as { filename: string }
await mkdir(dirname(filename), { recursive: true })

const migrator = new MigrationRunner(db, app, { direction: 'up', connectionName: 'sqlite' })
await migrator.run()
if (migrator.error) {
  throw migrator.error
}

for (const { email, ...rest } of DEMO_USERS) {
  await User.firstOrCreate({ email }, rest)
}
