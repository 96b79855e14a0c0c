import { defineConfig } from '@adonisjs/core/logger'
import env from '../start/env.js'

/**
 * JSON logs on stdout.
 */
export default defineConfig({
  default: 'app',
  loggers: {
    app: {
      enabled: true,
      name: 'adonis-satchel-demo',
      level: env.get('LOG_LEVEL', 'info'),
    },
  },
})
