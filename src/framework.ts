import * as http from '@adonisjs/core/http'
import { configProvider } from '@adonisjs/core'
import string from '@adonisjs/core/helpers/string'
import type { ApplicationService } from '@adonisjs/core/types'
import { E_SESSION_INVALID_APP_KEY } from './errors.js'

/**
 * Everything that differs between AdonisJS 6 and 7, detected once at runtime
 * from what `@adonisjs/core` exports (AdonisJS 7 renamed `Response` to
 * `HttpResponse`), so one build serves both majors. No other module asks
 * which major runs.
 */
const httpExports = http as unknown as Record<string, unknown>

/** True on AdonisJS 7 (`@adonisjs/core` 7.x). */
const isAdonis7 = typeof httpExports.HttpResponse === 'function'

/** The major of `@adonisjs/core` the app runs on. */
export const adonisMajor: 6 | 7 = isAdonis7 ? 7 : 6

/**
 * The framework's response class: `HttpResponse` on AdonisJS 7, `Response` on 6.
 */
export const ResponseClass = (isAdonis7 ? httpExports.HttpResponse : httpExports.Response) as {
  prototype: { redirect(...args: any[]): unknown }
  macro(name: string, value: (...args: any[]) => unknown): void
}

/**
 * What seals and opens values with one key the way the app's default
 * encrypter does on AdonisJS 7 (a driver of @boringnode/encryption).
 */
export interface AppEncrypter {
  encrypt(payload: unknown, expiresIn?: string | number, purpose?: string): string
  decrypt<T>(value: string, purpose?: string): T | null
}

/**
 * The secrets of an app: `keys` newest first (the first signs and seals),
 * where they come from (named in errors) and, on AdonisJS 7, the driver of
 * the app's default encrypter for a key: what the framework seals encrypted
 * cookies with, used for the cookie store's data cookie.
 */
export interface AppSecrets {
  keys: string[]
  source: string
  encrypterFor?: (key: string) => AppEncrypter
}

/** How to fix a missing or short key, per major. */
const KEY_FIX = isAdonis7
  ? 'the default encrypter of "config/encryption.ts" needs a key of at least 16 characters in its "keys" (usually APP_KEY from ".env": run "node ace generate:key")'
  : 'APP_KEY must be at least 16 characters: set it in ".env" (run "node ace generate:key") and read it as "appKey" in "config/app.ts"'

/** A Secret (release()) or a plain string, as text. */
function reveal(value: unknown): string {
  if (value && typeof value === 'object' && 'release' in value) {
    return String((value as { release(): unknown }).release())
  }
  return typeof value === 'string' ? value : ''
}

/** Throw the major's clear error unless every key is long enough. */
function checked(secrets: AppSecrets): AppSecrets {
  if (secrets.keys.length === 0 || secrets.keys.some((key) => key.length < 16)) {
    throw new E_SESSION_INVALID_APP_KEY([KEY_FIX])
  }
  return secrets
}

/**
 * The keys AdonisJS itself signs cookies with. AdonisJS 6: `appKey` of
 * `config/app.ts`. AdonisJS 7: the keys of the default encrypter in
 * `config/encryption.ts`, plus that encrypter's driver, so a value sealed
 * with any key (also one of `previousKeys`) opens and tells which key made it.
 */
export async function readAppSecrets(app: ApplicationService): Promise<AppSecrets> {
  if (!isAdonis7) {
    return checked({ keys: [reveal(app.config.get('app.appKey'))], source: 'APP_KEY' })
  }
  const resolved = await configProvider.resolve<{
    default?: string
    list: Record<string, { keys?: unknown[]; driver?: (key: string) => AppEncrypter }>
  }>(app, app.config.get('encryption'))
  const encrypterConfig = resolved?.default ? resolved.list[resolved.default] : undefined
  const keys = (encrypterConfig?.keys ?? []).map(reveal)
  checked({ keys, source: 'config/encryption.ts' })
  return {
    keys,
    source: 'config/encryption.ts',
    encrypterFor: (key) => encrypterConfig!.driver!(key),
  }
}

/**
 * True when a validation failure also flashes the legacy `errors` key
 * (@adonisjs/session 7.x on AdonisJS 6); 8.x on AdonisJS 7 dropped it.
 */
export const flashesLegacyErrorsKey = !isAdonis7

/**
 * The core's plain HTML rendering of validation messages, one "field - message"
 * line each: AdonisJS 7 escapes field and message, AdonisJS 6 does not.
 */
export function validationErrorsAsHtml(messages: { field: string; message: string }[]): string {
  const text = isAdonis7 ? (value: string) => string.escapeHTML(String(value)) : String
  return messages.map(({ field, message }) => `${text(field)} - ${text(message)}`).join('<br />')
}
