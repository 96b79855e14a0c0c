import { defineConfig, drivers } from '@adonisjs/core/hash'

/**
 * Password hashing: scrypt, as in a new AdonisJS app.
 */
export default defineConfig({
  default: 'scrypt',
  list: {
    scrypt: drivers.scrypt({ cost: 16384, blockSize: 8, parallelization: 1, maxMemory: 33554432 }),
  },
})
