import * as http from '@adonisjs/core/http'
import * as coreEncryption from '@adonisjs/core/encryption'
import type { Encryption } from '@adonisjs/core/encryption'
import { EncryptionFactory } from '@adonisjs/core/factories/encryption'

/**
 * What the tests expect from AdonisJS 6 and 7 where the two differ, detected
 * once from what `@adonisjs/core` exports (AdonisJS 7 renamed `Response` to
 * `HttpResponse`). The tests ask this module instead of asking for a major.
 * Both majors' types are in play (one per lane), so the parts only one major
 * has are reached through loose views.
 */
export const adonisMajor: 6 | 7 = 'HttpResponse' in http ? 7 : 6

/**
 * The app key the test apps use (the one of `IgnitorFactory.withCoreConfig()`
 * on both majors: `app.appKey` on 6, the `gcm` encrypter's key on 7).
 */
export const TEST_APP_KEY = 'averylongrandomsecretkey'

/**
 * The AES-256-GCM driver class of AdonisJS 7 (`@adonisjs/core` 7 only),
 * loaded once: the default encrypter of a new AdonisJS 7 app.
 */
const gcmDriverModule = '@adonisjs/core/encryption/drivers/aes_256_gcm'
const AES256GCM: (new (config: { id: string; key: string }) => unknown) | undefined =
  adonisMajor === 7 ? (await import(gcmDriverModule)).AES256GCM : undefined

/** The loose view of `@adonisjs/core/encryption` on AdonisJS 7. */
const encryption7 = coreEncryption as unknown as {
  Encryption: new (config: { driver: (key: string) => unknown; keys: string[] }) => Encryption
  defineConfig(config: { default: string; list: Record<string, unknown> }): unknown
  drivers: { aes256gcm(config: { id: string; keys: string[] }): unknown }
}

/**
 * The encryption of an app whose key is `appKey` (older keys after it), as the
 * framework signs and encrypts cookies with it: AdonisJS 6 derives everything
 * from the app key; AdonisJS 7 uses the app's default encrypter, `gcm` in a
 * new app.
 */
export function createEncryption(appKey: string = TEST_APP_KEY): Encryption {
  if (AES256GCM) {
    return new encryption7.Encryption({
      driver: (key) => new AES256GCM({ id: 'gcm', key }),
      keys: [appKey],
    })
  }
  const factory = new EncryptionFactory() as unknown as {
    merge(parameters: { secret: string }): { create(): Encryption }
  }
  return factory.merge({ secret: appKey }).create()
}

/**
 * What an app's session manager gives its KeyRing as `encrypterFor`: the
 * app's default encrypter for one key on AdonisJS 7 (`gcm` in a new app),
 * nothing on 6 (the KeyRing seals in the legacy format itself).
 */
export const appEncrypterFor: ((key: string) => Encryption) | undefined =
  adonisMajor === 7 ? (key) => createEncryption(key) : undefined

/**
 * Sign `value` with the framework's message verifier, valid for `expiresIn`
 * and bound to `purpose`, as the framework signs a cookie (without the `s:`
 * prefix): `encryption.verifier` on 6, `encryption.getMessageVerifier()` on 7.
 */
export function signWithFramework(
  encryption: Encryption,
  value: unknown,
  expiresIn: string | number | undefined,
  purpose: string
): string {
  const loose = encryption as unknown as {
    verifier?: MessageVerifier
    getMessageVerifier?(): MessageVerifier
  }
  const verifier = loose.getMessageVerifier ? loose.getMessageVerifier() : loose.verifier!
  return verifier.sign(value, expiresIn, purpose)
}

/** The part of the framework's message verifier the tests use. */
interface MessageVerifier {
  sign(value: unknown, expiresIn?: string | number, purpose?: string): string
}

/**
 * Where the app key lives, as config entries to set on a booted app's config
 * (`app.config.set(path, value)`): `app.appKey` on 6; on 7 the whole
 * `encryption` config, a `gcm` default encrypter with that key (none when
 * `appKey` is undefined). A list of keys, newest first, is AdonisJS 7 only.
 */
export function appKeyConfigEntries(
  appKey: string | string[] | undefined
): [path: string, value: unknown][] {
  if (adonisMajor === 6) {
    if (Array.isArray(appKey)) {
      throw new Error('AdonisJS 6 has one app key: rotate it with "previousKeys"')
    }
    return [['app.appKey', appKey]]
  }
  return [['encryption', encryptionConfig(appKey)]]
}

/**
 * The ways an app rotates its key from `oldKey` to `newKey`, as the app key
 * and session `previousKeys` of the app after the rotation: `previousKeys` on
 * both majors; on 7 also the `keys` of `config/encryption.ts`, newest first,
 * as AdonisJS 7 documents it.
 */
export function keyRotations(newKey: string, oldKey: string) {
  const rotations: { name: string; appKey: string | string[]; previousKeys: string[] }[] = [
    { name: 'previousKeys', appKey: newKey, previousKeys: [oldKey] },
  ]
  if (adonisMajor === 7) {
    rotations.push({ name: 'the encrypter keys', appKey: [newKey, oldKey], previousKeys: [] })
  }
  return rotations
}

/**
 * The config of an app with `appKey` (undefined: no key at all) and the given
 * `http` config, to merge into a test app's config: `{ app: { appKey, http } }`
 * on 6; on 7 `{ app: { appUrl, http }, encryption }`.
 */
export function appConfigWithKey(appKey: string | undefined, httpConfig: unknown) {
  if (adonisMajor === 6) {
    return { app: { appKey, http: httpConfig } }
  }
  return {
    app: { appUrl: 'http://localhost:3333', http: httpConfig },
    encryption: encryptionConfig(appKey),
  }
}

/**
 * The config files (plain JavaScript) that give a minimal app `appKey` and an
 * empty http config: `config/app.js` with `appKey` on 6; on 7 `config/app.js`
 * with the http config only and `config/encryption.js`, a `gcm` default
 * encrypter with that key.
 */
export function appKeyConfigFiles(appKey: string = TEST_APP_KEY): Record<string, string> {
  const httpConfig = [
    `import { defineConfig } from '@adonisjs/core/http'`,
    `export const http = defineConfig({})`,
  ]
  if (adonisMajor === 6) {
    return {
      'config/app.js': [...httpConfig, `export const appKey = ${JSON.stringify(appKey)}`].join(
        '\n'
      ),
    }
  }
  return {
    'config/app.js': httpConfig.join('\n'),
    'config/encryption.js': [
      `import { defineConfig, drivers } from '@adonisjs/core/encryption'`,
      `export default defineConfig({`,
      `  default: 'gcm',`,
      `  list: { gcm: drivers.aes256gcm({ id: 'gcm', keys: [${JSON.stringify(appKey)}] }) },`,
      `})`,
    ].join('\n'),
  }
}

/**
 * AdonisJS 7's `config/encryption.ts` of a new app, with `appKey` as its key
 * (or its keys, newest first).
 */
function encryptionConfig(appKey: string | string[] | undefined): unknown {
  const keys = appKey === undefined ? [] : [appKey].flat()
  return encryption7.defineConfig({
    default: 'gcm',
    list: { gcm: encryption7.drivers.aes256gcm({ id: 'gcm', keys }) },
  })
}

/**
 * The `Location` of `response.redirect('back')` (or `.back()`) for a request
 * whose `Referer` is `referer`, an URL of the app itself: its path and query on
 * 6, the whole URL on 7.
 */
export function redirectBackLocation(referer: string): string {
  if (adonisMajor === 7) {
    return referer
  }
  const url = new URL(referer)
  return `${url.pathname}${url.search}`
}

/**
 * True when a validation failure flashes the legacy `errors` key beside
 * `inputErrorsBag` (@adonisjs/session 7.x behaviour on AdonisJS 6); 8.x on
 * AdonisJS 7 no longer writes it.
 */
export const flashesLegacyErrorsKey = adonisMajor === 6

/**
 * What the session provider says when the app key is missing or shorter than
 * 16 characters: it names `APP_KEY` on 6 and `config/encryption.ts` on 7.
 */
export const MISSING_APP_KEY_ERROR =
  adonisMajor === 6
    ? /APP_KEY must be at least 16 characters/
    : /the default encrypter of "config\/encryption\.ts" needs a key of at least 16 characters/
