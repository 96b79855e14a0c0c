import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { Ignitor, prettyPrintError } from '@adonisjs/core'

/**
 * Starts the demo app's HTTP server on HOST:PORT (0.0.0.0:3333 by default).
 * Run it with `npm run demo`, which loads the TypeScript sources directly.
 */
const APP_ROOT = new URL('../', import.meta.url)
const APP_KEY_FILE = new URL('tmp/app_key', APP_ROOT)

/**
 * Import app files by path relative to the demo folder, packages by name.
 */
function importer(filePath: string) {
  if (filePath.startsWith('./') || filePath.startsWith('../')) {
    return import(new URL(filePath, APP_ROOT).href)
  }
  return import(filePath)
}

/**
 * Use APP_KEY from the environment, or a development key kept in
 * demo/tmp/app_key (created on first start), so sessions survive restarts.
 */
async function ensureAppKey() {
  if (process.env.APP_KEY || process.env.NODE_ENV === 'production') {
    return
  }
  try {
    const savedKey = await readFile(APP_KEY_FILE, 'utf8')
    process.env.APP_KEY = savedKey.trim()
  } catch {
    const appKey = randomBytes(32).toString('base64url')
    await mkdir(new URL('tmp/', APP_ROOT), { recursive: true })
    await writeFile(APP_KEY_FILE, appKey, { mode: 0o600 })
    process.env.APP_KEY = appKey
    console.log('Generated a development APP_KEY in demo/tmp/app_key')
  }
}

await ensureAppKey()
new Ignitor(APP_ROOT, { importer })
  .tap((app) => {
    app.booting(async () => {
      await import('../start/env.js')
    })
    app.listen('SIGTERM', () => app.terminate())
    app.listenIf(app.managedByPm2, 'SIGINT', () => app.terminate())
  })
  .httpServer()
  .start()
  .catch((error) => {
    process.exitCode = 1
    prettyPrintError(error)
  })
