import app from '@adonisjs/core/services/app'
import { defineConfig } from '@adonisjs/lucid'
import env from '../start/env.js'

/**
 * The demo's database: SQLite in one file (demo/tmp/demo.sqlite3 unless
 * DATABASE_FILE says otherwise), so it needs no database server. It holds the
 * users and their remember-me tokens; the migrations run on start.
 */
export default defineConfig({
  connection: 'sqlite',
  connections: {
    sqlite: {
      client: 'better-sqlite3',
      connection: { filename: env.get('DATABASE_FILE', app.tmpPath('demo.sqlite3')) },
      useNullAsDefault: true,
      migrations: { naturalSort: true, paths: ['./database/migrations'] },
    },
  },
})
