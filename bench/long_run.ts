/**
 * Does adonis-satchel's lead hold over minutes? `npm run bench:long` loads
 * adonis-satchel and @adonisjs/session for several minutes on the SAME
 * sessions (opened once, never again), in interleaved rounds, with two kinds
 * of client side by side:
 * - `keeps cookies`: stores the cookies responses set and sends them back, as
 *   a browser does;
 * - `replays cookies`: sends the Cookie header it started with on every
 *   request, as autocannon does (and as an outside harness built on it did).
 * Each round prints the requests per second, the CPU time per request of
 * each app, the share of responses that set a cookie, and adonis-satchel ÷
 * @adonisjs/session per client, so a ratio that falls round after round shows,
 * and which client it falls for.
 *
 * Usage: npm run bench:long [-- --stores=cookie,memory,file --rounds=5 --seconds=6 --path=/read]
 * Writes bench/tmp/long_results.json.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { ChildApp } from './child_app.js'
import { APP_CPU, LOAD_CPU, pinProcess } from './cpu_pinning.js'
import { load, seedSessions } from './load.js'
import { machine, rateText, ratioText } from './report.js'
import { median } from './statistics.js'
import type { StoreName } from './types.js'

const TEMPORARY = fileURLToPath(new URL('./tmp/', import.meta.url))
const RESULTS_FILE = `${TEMPORARY}long_results.json`
const CONNECTIONS = 10
const CLIENTS = ['keeps cookies', 'replays cookies'] as const
const APPS = ['satchel', 'official'] as const
type Client = (typeof CLIENTS)[number]
type App = (typeof APPS)[number]

/**
 * One app loaded by one client for one round.
 */
interface Measurement {
  round: number
  store: StoreName
  client: Client
  app: App
  /** Seconds since the sessions were opened, at the start of the load. */
  sessionAgeSeconds: number
  requestsPerSecond: number
  cpuMicrosecondsPerRequest: number
  /** Share of the responses that carried a Set-Cookie header. */
  settingCookies: number
  failures: number
}

function parseOptions(argv: string[]) {
  const value = (name: string) =>
    argv.find((argument) => argument.startsWith(`--${name}=`))?.split('=')[1]
  return {
    stores: (value('stores') ?? 'cookie,memory,file').split(',') as StoreName[],
    rounds: Number(value('rounds') ?? 5),
    seconds: Number(value('seconds') ?? 6),
    path: value('path') ?? '/read',
  }
}

/**
 * Load the apps round after round on the same sessions and print every round.
 */
async function longRun(options: ReturnType<typeof parseOptions>) {
  await mkdir(TEMPORARY, { recursive: true })
  const pinned = pinProcess(process.pid, LOAD_CPU)
  const loadBefore = loadavg()[0]
  const apps = new Map<string, ChildApp>()
  for (const store of options.stores) {
    for (const app of APPS) {
      apps.set(
        `${store}/${app}`,
        await ChildApp.start({
          variant: app,
          store,
          fileLocation: `${TEMPORARY}sessions/long-${app}-${process.pid}`,
          cpu: pinned ? APP_CPU : undefined,
        })
      )
    }
  }
  const measurements: Measurement[] = []
  try {
    /* Warm each app up on sessions of its own, then open the measured ones. */
    const cookies = new Map<string, string[]>()
    for (const [key, app] of apps) {
      await load(`${app.url}${options.path}`, await seedSessions(app.url, '/seed', CONNECTIONS), 2)
      for (const client of CLIENTS) {
        cookies.set(`${key}/${client}`, await seedSessions(app.url, '/seed', CONNECTIONS))
      }
    }
    const openedAt = Date.now()
    for (let round = 1; round <= options.rounds; round++) {
      for (const store of options.stores) {
        for (const client of CLIENTS) {
          for (const appName of APPS) {
            const app = apps.get(`${store}/${appName}`)!
            const sessionAgeSeconds = (Date.now() - openedAt) / 1000
            const cpuBefore = await app.cpuTime()
            const result = await load(
              `${app.url}${options.path}`,
              cookies.get(`${store}/${appName}/${client}`)!,
              options.seconds,
              { keepCookies: client === 'keeps cookies' }
            )
            const requests = Math.max(1, result.requests)
            measurements.push({
              round,
              store,
              client,
              app: appName,
              sessionAgeSeconds,
              requestsPerSecond: result.requestsPerSecond,
              cpuMicrosecondsPerRequest: ((await app.cpuTime()) - cpuBefore) / requests,
              settingCookies: result.responsesSettingCookies / requests,
              failures: result.failures,
            })
          }
          const [satchel, official] = measurements.slice(-2)
          const age = `${Math.round(satchel.sessionAgeSeconds)} s`.padStart(5)
          const describe = (entry: Measurement) =>
            `${rateText(entry.requestsPerSecond).padStart(7)} req/s ${rateText(entry.cpuMicrosecondsPerRequest).padStart(4)} µs (${percent(entry.settingCookies)} set cookies)`
          console.log(
            `round ${round} ${store.padEnd(6)} ${client.padEnd(15)} sessions ${age} old  official ${describe(official)}  satchel ${describe(satchel)}  satchel÷official ${ratioText(satchel.requestsPerSecond / official.requestsPerSecond)}`
          )
        }
      }
    }
  } finally {
    await Promise.all([...apps.values()].map((app) => app.stop()))
    await rm(`${TEMPORARY}sessions`, { recursive: true, force: true })
  }
  const table = summaryTable(measurements, options)
  const about = machine()
  console.log(
    `\nMeasured ${new Date().toISOString().slice(0, 10)}: ${options.rounds} rounds of ${options.seconds} s per app and client on ${options.path}, ${CONNECTIONS} connections, ${about.cpus} cores (${about.cpuModel}), Node.js ${about.node}, load average ${loadBefore.toFixed(2)} before and ${loadavg()[0].toFixed(2)} after${pinned ? `, apps pinned to CPU ${APP_CPU} and autocannon to CPU ${LOAD_CPU}` : ''}.\n\n${table}`
  )
  await writeFile(
    RESULTS_FILE,
    `${JSON.stringify({ date: new Date().toISOString(), machine: about, options, loadAverage: { before: loadBefore, after: loadavg()[0] }, measurements }, null, 2)}\n`
  )
  console.log(`\nWrote ${RESULTS_FILE}`)
}

function percent(share: number): string {
  return `${Math.round(share * 100)}%`.padStart(4)
}

/**
 * adonis-satchel ÷ @adonisjs/session in requests per second, per store,
 * client and round, with the age of the sessions and the share of
 * adonis-satchel's responses that set a cookie.
 */
function summaryTable(
  measurements: Measurement[],
  options: ReturnType<typeof parseOptions>
): string {
  const rounds = Array.from({ length: options.rounds }, (_, index) => index + 1)
  const lines = [
    `| store | client | ${rounds.map((round) => `round ${round}`).join(' | ')} | median |`,
    `|---|---|${rounds.map(() => '---:').join('|')}|---:|`,
  ]
  for (const store of options.stores) {
    for (const client of CLIENTS) {
      const ratios = rounds.map((round) => {
        const of = (app: App) =>
          measurements.find(
            (entry) =>
              entry.round === round &&
              entry.store === store &&
              entry.client === client &&
              entry.app === app
          )!
        const satchel = of('satchel')
        return {
          ratio: satchel.requestsPerSecond / of('official').requestsPerSecond,
          age: satchel.sessionAgeSeconds,
          settingCookies: satchel.settingCookies,
        }
      })
      lines.push(
        `| ${store} | ${client} | ${ratios.map((entry) => `${ratioText(entry.ratio)} (${Math.round(entry.age)} s, ${Math.round(entry.settingCookies * 100)}%)`).join(' | ')} | ${ratioText(median(ratios.map((entry) => entry.ratio)))} |`
      )
    }
  }
  return `adonis-satchel ÷ @adonisjs/session, req/s (in brackets: age of the sessions at the start of the round, share of adonis-satchel's responses that set a cookie)\n\n${lines.join('\n')}`
}

await longRun(parseOptions(process.argv.slice(2)))
