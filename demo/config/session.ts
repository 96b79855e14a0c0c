import app from '@adonisjs/core/services/app'
import env from '../start/env.js'
import { defineConfig, stores } from '../../index.js'

/**
 * Sessions of the demo. In your app: `import { defineConfig, stores } from 'adonis-satchel'`.
 * SESSION_DRIVER picks the store (file by default: no service needed, and it
 * can list a user's sessions).
 */
export default defineConfig({
  age: '2h',
  cookieName: 'adonis-session',
  clearWithBrowser: false,
  cookie: {
    path: '/',
    httpOnly: true,
    secure: app.inProduction,
    sameSite: 'lax',
  },
  store: env.get('SESSION_DRIVER', 'file'),
  stores: {
    file: stores.file({
      location: env.get('SESSION_FILE_LOCATION', app.tmpPath('sessions')),
    }),
    cookie: stores.cookie(),
    redis: stores.redis({ connection: 'main', prefix: 'satchel-demo:' }),
  },
})
