import { test } from '@japa/runner'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { assertAvailable, storeCases } from './helpers.js'

const STORES = await storeCases(['cookie', 'memory', 'file', 'redis', 'database', 'dynamodb'])

/**
 * What the heap attack probe printed.
 */
interface ProbeResult {
  statuses: Record<string, number>
  before: number
  after: number
  peak: number
}

/**
 * Run tests/security/heap_attack_probe.ts against one store in a child
 * process with a 96 MB heap, where the attack ran out of memory before the
 * fix (after 50 to 100 requests on the file and memory stores, about 1 MB of
 * heap per request).
 */
function runProbe(store: string, requests: number): Promise<ProbeResult> {
  const script = fileURLToPath(new URL('./heap_attack_probe.ts', import.meta.url))
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [
        '--expose-gc',
        '--max-old-space-size=96',
        '--import=ts-node-maintained/register/esm',
        script,
        store,
        String(requests),
      ],
      {
        cwd: fileURLToPath(new URL('../../', import.meta.url)),
        maxBuffer: 4 * 1024 * 1024,
        timeout: 170_000,
      },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`heap attack probe on ${store} failed: ${error.message}\n${stderr}`))
          return
        }
        resolve(JSON.parse(stdout.trim().split('\n').pop()!))
      }
    )
  })
}

test.group('security | heap attack', () => {
  for (const { name, availability } of STORES) {
    test(`120 cookie-less failing forms with a 900 KB field leave the ${name} store's heap bounded`, async ({
      assert,
    }) => {
      assertAvailable(availability)
      const result = await runProbe(name, 120)
      assert.deepEqual(result.statuses, { 302: 120 })
      assert.isBelow(result.after - result.before, 8 * 1024 * 1024)
    }).timeout(180_000)
  }
})
