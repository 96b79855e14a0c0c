import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

/**
 * Where Debian installs Chromium (`apt-get install -y chromium`).
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/**
 * Why browser tests cannot run here, or undefined when they can. Under
 * `CI=true` a missing Chromium is an error, never a skip.
 */
export function chromiumMissingReason(): string | undefined {
  if (existsSync(CHROMIUM_PATH)) {
    return undefined
  }
  const reason = `Chromium is not installed at ${CHROMIUM_PATH}: run "apt-get install -y chromium"`
  if (process.env.CI === 'true') {
    throw new Error(`${reason} (CI=true: browser tests cannot be skipped)`)
  }
  console.warn(`\n  SKIPPING BROWSER TESTS. ${reason}\n`)
  return reason
}

/**
 * Launch headless Chromium with the flags that keep it quiet and offline.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  })
}
