import { defineConfig } from '@adonisjs/redis'
import env from '../start/env.js'

/**
 * The Redis connection of the redis session store (SESSION_DRIVER=redis).
 * Nothing connects unless that store is used.
 */
const redisConfig = defineConfig({
  connection: 'main',
  connections: {
    main: {
      host: env.get('REDIS_HOST', '127.0.0.1'),
      port: env.get('REDIS_PORT', 6379),
      password: env.get('REDIS_PASSWORD', ''),
      db: 0,
      retryStrategy(times) {
        return times > 10 ? null : times * 50
      },
    },
  },
})

export default redisConfig
