import { readFileSync } from 'node:fs'
import { launchChromium } from './tests_helpers/chromium.js'
const browser = await launchChromium()
const page = await browser.newPage({ viewport: { width: 1000, height: 800 } })
await page.setContent(`<body style="margin:0">${readFileSync(process.argv[2], 'utf8')}</body>`)
await page.locator('svg').screenshot({ path: process.argv[3], timeout: 60000 })
await browser.close()
