import app from '@adonisjs/core/services/app'
import env from '../start/env.js'
import { defineConfig, stores } from '../../index.js'

/**
 * Sessions of the demo. In your app: `import { defineConfig, stores } from 'adonis-satchel'`.
 * SESSION_DRIVER picks the store (file by default: no service needed, and it
 * can list a user's sessions).
 */
const store = env.get('SESSION_DRIVER', 'file')

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
  store,
  stores: {
    file: stores.file({
      location: env.get('SESSION_FILE_LOCATION', app.tmpPath('sessions')),
    }),
    cookie: stores.cookie(),
    redis: stores.redis({ connection: 'main', prefix: 'satchel-demo:' }),
  },
  /**
   * Tag every session @adonisjs/auth logs in, by password or by remember-me
   * token, with the user: the devices page lists them and "sign out my other
   * devices" ends them. The cookie store cannot list sessions, so not there.
   */
  auth: { tagSessions: store !== 'cookie' },
})
