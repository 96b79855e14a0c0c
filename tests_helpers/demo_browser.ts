import type { Group } from '@japa/runner/core'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { launchChromium } from './chromium.js'

/**
 * What the browser helpers need of a running demo server.
 */
export interface RunningDemo {
  url: string
  stop(): Promise<void>
}

/**
 * The demo and the Chromium of a test group.
 */
export interface DemoDevices<Demo extends RunningDemo> {
  /** The demo the group started. */
  readonly demo: Demo
  /**
   * A new page in a browser context of its own (a separate device) whose
   * relative URLs go to the demo; closed when the test ends.
   */
  newDevice(): Promise<Page>
}

/**
 * Start a demo (with `start`) and Chromium once for a test group, stop them
 * when it ends, and give each test new devices; nothing starts when
 * `skipReason` says why the group's tests are skipped.
 */
export function demoDevices<Demo extends RunningDemo>(
  group: Group,
  start: () => Promise<Demo>,
  skipReason?: string
): DemoDevices<Demo> {
  let demo: Demo | undefined
  let browser: Browser | undefined
  let contexts: BrowserContext[] = []

  group.setup(async () => {
    if (!skipReason) {
      ;[demo, browser] = await Promise.all([start(), launchChromium()])
    }
  })
  group.teardown(async () => {
    await browser?.close()
    await demo?.stop()
  })
  group.each.teardown(async () => {
    await Promise.all(contexts.map((context) => context.close()))
    contexts = []
  })

  return {
    get demo() {
      return demo!
    },
    async newDevice() {
      const context = await browser!.newContext({ baseURL: demo!.url })
      contexts.push(context)
      return context.newPage()
    },
  }
}

/**
 * The texts of the elements a selector matches.
 */
export function texts(page: Page, selector: string): Promise<string[]> {
  return page.locator(selector).allTextContents()
}

/**
 * Fill and send the sign-in form of the demo.
 */
export async function signIn(page: Page, email: string, password: string) {
  await page.goto('/sign-in')
  await submitSignIn(page, email, password, /./)
}

/**
 * Fill and send the sign-in form of the page on screen, then wait for `next`.
 */
export async function submitSignIn(page: Page, email: string, password: string, next: RegExp) {
  await page.fill('#email', email)
  await page.fill('#password', password)
  await Promise.all([page.waitForURL(next), page.click('[data-test=submit]')])
}

/**
 * Press the devices page's "sign out the other devices" button.
 */
export async function signOutOtherDevices(page: Page) {
  await page.goto('/devices')
  await Promise.all([page.waitForURL(/devices/), page.click('[data-test=sign-out-others]')])
}

/**
 * Open the parallel writes panel, press its button and wait for the result
 * ("10 of 10 keys kept.").
 */
export async function runParallelWrites(page: Page) {
  await page.goto('/parallel')
  await page.click('[data-test=run-parallel]')
  await page.locator('[data-test=parallel-result]', { hasText: 'keys kept' }).waitFor()
  return {
    result: (await texts(page, '[data-test=parallel-result]'))[0],
    lost: await texts(page, '[data-test=parallel-keys] li.lost'),
  }
}
