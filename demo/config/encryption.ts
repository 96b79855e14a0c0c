import * as encryption from '@adonisjs/core/encryption'
import { adonisMajor } from '../../src/framework.js'
import env from '../start/env.js'

/**
 * The part of `@adonisjs/core/encryption` that only AdonisJS 7 has.
 */
const encryption7 = encryption as unknown as {
  defineConfig(config: { default: string; list: Record<string, unknown> }): unknown
  drivers: { aes256gcm(config: { id: string; keys: string[] }): unknown }
}

/**
 * AdonisJS 7 signs and encrypts cookies with the default encrypter of this
 * file (AES-256-GCM keyed by APP_KEY, as in a new AdonisJS 7 app). AdonisJS 6
 * uses `appKey` of config/app.ts instead and never reads this file, so the
 * demo runs on both majors.
 */
export default adonisMajor === 7
  ? encryption7.defineConfig({
      default: 'gcm',
      list: { gcm: encryption7.drivers.aes256gcm({ id: 'gcm', keys: [env.get('APP_KEY')] }) },
    })
  : {}
