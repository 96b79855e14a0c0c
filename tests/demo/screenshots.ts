import { mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { Locator, Page } from 'playwright-core'

/** Where the docs' screenshots of the demo live. */
export const SCREENSHOTS_FOLDER = fileURLToPath(new URL('../../docs/images/', import.meta.url))

/**
 * Save a screenshot for the docs (docs/images/demo_<name>.png) when the tests
 * run with UPDATE_SCREENSHOTS=1 (`npm run docs:screenshots`); otherwise do
 * nothing, so a normal test run leaves the committed images alone.
 */
export async function screenshotForDocs(target: Page | Locator, name: string) {
  if (process.env.UPDATE_SCREENSHOTS !== '1') return
  await mkdir(SCREENSHOTS_FOLDER, { recursive: true })
  await target.screenshot({ path: `${SCREENSHOTS_FOLDER}demo_${name}.png`, timeout: 60_000 })
}
