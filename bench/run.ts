/**
 * The benchmark: `npm run bench` (full, a few minutes) or `npm run bench -- --quick`
 * (`BENCH_QUICK=1`, about a minute).
 *
 * Boots the same real AdonisJS v6 app three times, each in its own process:
 * with adonis-satchel (from this repository's source), with @adonisjs/session 7.x
 * and without session middleware (the floor). Loads each route and store with
 * autocannon from this process, interleaving the three apps, and reports medians
 * of ratios measured in the same round. Also counts Redis round trips per request,
 * checks that the memory store does not leak, and prints the targets as PASS/FAIL.
 *
 * Flags: --quick, --stores=cookie,memory, --rounds=N, --duration=seconds,
 * --only=shared (only the cells with every connection on one session, for A/B runs)
 * or --only=separate (only the cells with a session per connection),
 * --profile[=satchel|official|floor] (CPU-profile one app instead), --check (exit 1 on a FAIL).
 */
import { fork } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { cpus, loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { calibrate, calibrationTable } from './calibration.js'
import { ChildApp } from './child_app.js'
import { APP_CPU, LOAD_CPU, pinProcess } from './cpu_pinning.js'
import { load, seedSessions, sessionIdOf } from './load.js'
import type { MemoryCheckResult } from './memory_check.js'
import { isOwnCode, profileTable, summariseProfiles } from './profile.js'
import { RedisMonitor } from './redis_monitor.js'
import {
  checkTargets,
  cpuTable,
  machine,
  rateText,
  ratioText,
  throughputTable,
  trafficTable,
} from './report.js'
import {
  COOKIE_NAME,
  ROUTES,
  SHARED_SESSION_ROUTES,
  SHARED_SESSION_TARGET,
  STORES,
  TRAFFIC_SCENARIOS,
  VARIANTS,
  type CellResult,
  type TrafficResult,
} from './scenarios.js'
import { writeChart } from './chart.js'
import { geometricMean, median, medianRatio } from './statistics.js'
import type { StoreName, Variant } from './types.js'

const TEMPORARY = fileURLToPath(new URL('./tmp/', import.meta.url))
const RESULTS_FILE = fileURLToPath(new URL('./results.json', import.meta.url))
const SATCHEL_REDIS_STORE = new URL('../src/stores/redis.ts', import.meta.url)
/**
 * Options of a benchmark run.
 */
interface BenchOptions {
  quick: boolean
  stores: StoreName[]
  rounds: number
  durationSeconds: number
  /** Load on every route of a freshly booted app, so V8 has compiled its hot path. */
  bootWarmupSeconds: number
  /** Load on each app before a cell's rounds (reopens its connections). */
  warmupSeconds: number
  connections: number
  /** The app to CPU-profile instead of benchmarking (`--profile[=satchel|official|floor]`). */
  profile: Variant | false
  check: boolean
  /**
   * The patterns measured: both (the default), only the cells with every
   * connection on one session, or only those with a session per connection.
   * Either filter skips the memory check, the Redis traffic and the calibration.
   */
  only: 'shared' | 'separate' | undefined
}

function parseOptions(argv: string[]): BenchOptions {
  const flag = (name: string) => argv.includes(`--${name}`)
  const value = (name: string) =>
    argv.find((argument) => argument.startsWith(`--${name}=`))?.split('=')[1]
  const quick = flag('quick') || process.env.BENCH_QUICK === '1'
  const stores = (value('stores')?.split(',') ?? STORES) as StoreName[]
  for (const store of stores) {
    if (!STORES.includes(store)) {
      throw new Error(`Unknown store "${store}" in --stores. Choose from: ${STORES.join(', ')}`)
    }
  }
  const profiled = flag('profile') ? 'satchel' : value('profile')
  if (profiled !== undefined && !VARIANTS.includes(profiled as Variant)) {
    throw new Error(`Unknown app "${profiled}" in --profile. Choose from: ${VARIANTS.join(', ')}`)
  }
  const only = value('only')
  if (only !== undefined && only !== 'shared' && only !== 'separate') {
    throw new Error(`Unknown pattern "${only}" in --only. Choose from: shared, separate`)
  }
  return {
    quick,
    stores,
    rounds: Number(value('rounds') ?? (quick ? 3 : 5)),
    durationSeconds: Number(value('duration') ?? (quick ? 0.2 : 1)),
    bootWarmupSeconds: quick ? 0.3 : 1,
    warmupSeconds: quick ? 0.1 : 0.3,
    connections: 10,
    profile: (profiled as Variant | undefined) ?? false,
    check: flag('check'),
    only,
  }
}

/**
 * Stop when a service is missing under CI; otherwise say so loudly and go on.
 */
function missing(what: string) {
  const message = `\n!!! ${what}\n`
  if (process.env.CI === 'true') {
    throw new Error(message)
  }
  console.warn(message)
}

/**
 * The stores that can run here: Redis needs a server (and, for adonis-satchel,
 * its Redis store, written in parallel to this benchmark).
 */
async function runnableStores(options: BenchOptions) {
  const stores = [...options.stores]
  let satchelRedis = false
  if (stores.includes('redis')) {
    if (!(await RedisMonitor.isAvailable())) {
      missing('Redis is not reachable at REDIS_HOST/REDIS_PORT: the redis cells are SKIPPED')
      stores.splice(stores.indexOf('redis'), 1)
    } else if (!existsSync(SATCHEL_REDIS_STORE)) {
      missing('src/stores/redis.ts does not exist yet: adonis-satchel redis cells are NOT MEASURED')
    } else {
      satchelRedis = true
    }
  }
  return { stores, satchelRedis }
}

/**
 * The apps of one store (the floor is shared by all stores).
 */
type StoreApps = Record<Variant, ChildApp | undefined>

/**
 * Boot every app at once, before anything is measured: the floor, and
 * adonis-satchel and @adonisjs/session for each store.
 */
async function startAll(stores: StoreName[], satchelRedis: boolean, pinned: boolean) {
  const fileLocation = (variant: Variant) => `${TEMPORARY}sessions/${variant}-${process.pid}`
  const start = (variant: Variant, store: StoreName) =>
    ChildApp.start({
      variant,
      store,
      fileLocation: fileLocation(variant),
      cpu: pinned ? APP_CPU : undefined,
    })
  const floor = start('floor', 'memory')
  const booting = stores.map((store) => ({
    store,
    satchel: store !== 'redis' || satchelRedis ? start('satchel', store) : undefined,
    official: start('official', store),
  }))
  const all = [floor, ...booting.flatMap((boot) => [boot.satchel, boot.official])]
  const settled = await Promise.allSettled(all.filter((boot) => boot !== undefined))
  const started = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []))
  const failure = settled.find((result) => result.status === 'rejected')
  if (failure) {
    await stopAll(started)
    throw failure.reason
  }
  const apps = new Map<StoreName, StoreApps>()
  for (const boot of booting) {
    apps.set(boot.store, {
      satchel: await boot.satchel,
      official: await boot.official,
      floor: await floor,
    })
  }
  return { apps, stopAll: () => stopAll(started) }
}

/**
 * Stop apps, all at once.
 */
async function stopAll(apps: ChildApp[]) {
  await Promise.all(apps.map((app) => app.stop()))
}

/**
 * Load one route on the three apps, interleaved (satchel, official, floor, …).
 * The floor carries adonis-satchel's cookies, so its requests are the same size.
 */
async function measureCell(
  store: StoreName,
  route: { name: string; path: string; seed: string },
  apps: StoreApps,
  cookies: Record<string, Record<string, string[]>>,
  options: BenchOptions
): Promise<CellResult> {
  const variants = VARIANTS.filter((variant) => apps[variant])
  const cookiesOf = (variant: Variant) =>
    (cookies[variant === 'floor' ? (apps.satchel ? 'satchel' : 'official') : variant] ?? {})[
      route.seed
    ]
  const requestsPerSecond: Record<Variant, number[]> = { satchel: [], official: [], floor: [] }
  const cpuMicrosecondsPerRequest: Record<Variant, number[]> = {
    satchel: [],
    official: [],
    floor: [],
  }
  let failedRequests = 0
  for (const variant of variants) {
    await load(`${apps[variant]!.url}${route.path}`, cookiesOf(variant), options.warmupSeconds)
  }
  for (let round = 0; round < options.rounds; round++) {
    for (const variant of variants) {
      const app = apps[variant]!
      const cpuBefore = await app.cpuTime()
      const result = await load(
        `${app.url}${route.path}`,
        cookiesOf(variant),
        options.durationSeconds
      )
      const cpuAfter = await app.cpuTime()
      requestsPerSecond[variant].push(result.requestsPerSecond)
      cpuMicrosecondsPerRequest[variant].push((cpuAfter - cpuBefore) / Math.max(1, result.requests))
      failedRequests += result.failures
    }
  }
  const ratio = (top: Variant, bottom: Variant) =>
    requestsPerSecond[top].length && requestsPerSecond[bottom].length
      ? medianRatio(requestsPerSecond[top], requestsPerSecond[bottom])
      : Number.NaN
  return {
    store,
    route: route.name,
    path: route.path,
    requestsPerSecond,
    medianRequestsPerSecond: {
      satchel: median(requestsPerSecond.satchel),
      official: median(requestsPerSecond.official),
      floor: median(requestsPerSecond.floor),
    },
    satchelOverOfficial: ratio('satchel', 'official'),
    satchelOverFloor: ratio('satchel', 'floor'),
    officialOverFloor: ratio('official', 'floor'),
    cpuMicrosecondsPerRequest,
    medianCpuMicrosecondsPerRequest: {
      satchel: median(cpuMicrosecondsPerRequest.satchel),
      official: median(cpuMicrosecondsPerRequest.official),
      floor: median(cpuMicrosecondsPerRequest.floor),
    },
    cpuSpeedup:
      cpuMicrosecondsPerRequest.satchel.length && cpuMicrosecondsPerRequest.official.length
        ? medianRatio(cpuMicrosecondsPerRequest.official, cpuMicrosecondsPerRequest.satchel)
        : Number.NaN,
    failedRequests,
  }
}

/**
 * Count the Redis traffic of each kind of request, one request at a time:
 * round trips and writes on the app's socket, commands as Redis saw them.
 */
async function measureTraffic(app: ChildApp, monitor: RedisMonitor, requests = 10) {
  const results: TrafficResult[] = []
  const sessionIds: string[] = []
  for (const scenario of TRAFFIC_SCENARIOS) {
    const cookie = scenario.seed ? (await seedSessions(app.url, scenario.seed, 1))[0] : undefined
    if (cookie) sessionIds.push(sessionIdOf(cookie, COOKIE_NAME)!)
    await monitor.settle()
    const before = await app.redisTraffic()
    const commandsBefore = monitor.commandsFrom(before.localPort!).length
    for (let index = 0; index < requests; index++) {
      const response = await fetch(`${app.url}${scenario.path}`, {
        headers: cookie ? { cookie } : {},
      })
      await response.arrayBuffer()
    }
    await monitor.settle()
    const after = await app.redisTraffic()
    if (after.localPort !== before.localPort) {
      throw new Error(`The ${app.variant} app reconnected to Redis while its traffic was counted`)
    }
    const commands = monitor.commandsFrom(after.localPort!).slice(commandsBefore)
    const perRequest = Math.round(commands.length / requests)
    results.push({
      scenario: scenario.name,
      kind: scenario.kind,
      roundTrips: (after.roundTrips - before.roundTrips) / requests,
      commands: commands.length / requests,
      commandNames: perRequest ? commands.slice(-perRequest) : [],
    })
  }
  return { results, sessionIds }
}

/**
 * Run the memory check in a child process with `--expose-gc`.
 */
function runMemoryCheck(sessions: number): Promise<MemoryCheckResult> {
  return new Promise((resolve, reject) => {
    const child = fork(
      fileURLToPath(new URL('./memory_check.ts', import.meta.url)),
      [String(sessions)],
      { execArgv: ['--expose-gc', '--import=ts-node-maintained/register/esm'] }
    )
    child.once('message', (message) => resolve(message as MemoryCheckResult))
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`The memory check exited with code ${code}`))
    })
  })
}

/**
 * Open the sessions every app needs: one per connection and seeding route.
 * Each cell opens its own: autocannon replays the same Cookie header and never
 * takes the cookie a response re-issues, so a session older than a minute would
 * be re-sealed on every request, where a browser would have kept the new cookie.
 */
async function seedAll(apps: StoreApps, options: BenchOptions) {
  const cookies: Record<string, Record<string, string[]>> = {}
  for (const variant of ['satchel', 'official'] as const) {
    const app = apps[variant]
    if (!app) continue
    cookies[variant] = {}
    for (const seed of new Set(ROUTES.map((route) => route.seed))) {
      cookies[variant][seed] = await seedSessions(app.url, seed, options.connections)
    }
  }
  return cookies
}

/**
 * The cookies of `seedAll` with every connection given the first session of
 * its seed: all connections then share one session.
 */
function sharingOneSession(
  cookies: Record<string, Record<string, string[]>>
): Record<string, Record<string, string[]>> {
  return Object.fromEntries(
    Object.entries(cookies).map(([variant, jar]) => [
      variant,
      Object.fromEntries(
        Object.entries(jar).map(([seed, headers]) => [seed, headers.map(() => headers[0])])
      ),
    ])
  )
}

/**
 * The session ids inside the cookies `seedAll` returned.
 */
function sessionIdsIn(cookies: Record<string, Record<string, string[]>>): string[] {
  return Object.values(cookies)
    .flatMap((jar) => Object.values(jar).flat())
    .map((cookie) => sessionIdOf(cookie, COOKIE_NAME)!)
}

/**
 * Warm freshly booted apps up on every route (V8 compiles the hot path in
 * background threads for a few seconds, which would be measured otherwise).
 */
async function warmUp(
  apps: StoreApps,
  cookies: Record<string, Record<string, string[]>>,
  options: BenchOptions,
  withFloor: boolean
) {
  for (const variant of VARIANTS) {
    const app = apps[variant]
    if (!app || (variant === 'floor' && !withFloor)) continue
    const jar = cookies[variant === 'floor' ? Object.keys(cookies)[0] : variant]
    for (const route of ROUTES) {
      await load(`${app.url}${route.path}`, jar[route.seed], options.bootWarmupSeconds)
    }
  }
}

/**
 * Measure the cells of every store: one session per connection, then every
 * connection on one session (as `options.only` selects), interleaved rounds.
 */
async function measureCells(
  stores: StoreName[],
  apps: Map<StoreName, StoreApps>,
  options: BenchOptions,
  redisSessionIds: string[]
) {
  const cells: CellResult[] = []
  const sharedSessionCells: CellResult[] = []
  const line = (cell: CellResult) =>
    `${cell.store.padEnd(8)} ${cell.route.padEnd(24)} floor ${rateText(cell.medianRequestsPerSecond.floor).padStart(7)}  official ${rateText(cell.medianRequestsPerSecond.official).padStart(7)}  satchel ${rateText(cell.medianRequestsPerSecond.satchel).padStart(7)}  satchel÷official ${ratioText(cell.satchelOverOfficial)}  CPU µs/request official ${rateText(cell.medianCpuMicrosecondsPerRequest.official)} satchel ${rateText(cell.medianCpuMicrosecondsPerRequest.satchel)}${cell.failedRequests ? `  !!! ${cell.failedRequests} failed requests` : ''}`
  for (const store of stores) {
    const storeApps = apps.get(store)!
    const patterns = [
      { routes: options.only === 'shared' ? [] : ROUTES, shared: false, into: cells },
      {
        routes: options.only === 'separate' ? [] : SHARED_SESSION_ROUTES,
        shared: true,
        into: sharedSessionCells,
      },
    ]
    for (const pattern of patterns) {
      for (const route of pattern.routes) {
        const seeded = await seedAll(storeApps, options)
        const fresh = pattern.shared ? sharingOneSession(seeded) : seeded
        if (store === 'redis') redisSessionIds.push(...sessionIdsIn(fresh))
        const cell = await measureCell(store, route, storeApps, fresh, options)
        pattern.into.push(cell)
        console.log(line(cell))
      }
    }
  }
  return { cells, sharedSessionCells }
}

/**
 * The benchmark itself.
 */
async function bench(options: BenchOptions) {
  const started = Date.now()
  const loadBefore = loadavg()[0]
  if (loadBefore > 1) {
    console.warn(
      `!!! The 1-minute load average is ${loadBefore.toFixed(2)} on ${cpus().length} cores: other processes compete for the CPU, figures will be noisy`
    )
  }
  await mkdir(TEMPORARY, { recursive: true })
  const { stores, satchelRedis } = await runnableStores(options)
  const full = options.only === undefined
  const memoryCheck = full ? runMemoryCheck(100_000) : undefined
  memoryCheck?.catch(() => {})
  const pinned = pinProcess(process.pid, LOAD_CPU)
  const { apps, stopAll: stopApps } = await startAll(stores, satchelRedis, pinned)
  let cells: CellResult[] = []
  let sharedSessionCells: CellResult[] = []
  const traffic: Partial<Record<Variant, TrafficResult[]>> = {}
  const redisSessionIds: string[] = []
  let calibrationCookies: string[] = []
  try {
    const cookies = new Map<StoreName, Record<string, Record<string, string[]>>>()
    for (const store of stores) {
      cookies.set(store, await seedAll(apps.get(store)!, options))
      await warmUp(apps.get(store)!, cookies.get(store)!, options, store === stores[0])
    }
    if (cookies.has('redis')) {
      redisSessionIds.push(...sessionIdsIn(cookies.get('redis')!))
    }
    const firstJar = cookies.get(stores[0])!
    calibrationCookies = (firstJar.satchel ?? firstJar.official)['/seed']
    await memoryCheck
    ;({ cells, sharedSessionCells } = await measureCells(stores, apps, options, redisSessionIds))
    if (full && apps.has('redis')) {
      const monitor = new RedisMonitor()
      await monitor.start()
      try {
        for (const variant of ['official', 'satchel'] as const) {
          const app = apps.get('redis')![variant]
          if (!app) continue
          const measured = await measureTraffic(app, monitor)
          traffic[variant] = measured.results
          redisSessionIds.push(...measured.sessionIds)
        }
      } finally {
        monitor.stop()
      }
    }
  } finally {
    await stopApps()
    await rm(`${TEMPORARY}sessions`, { recursive: true, force: true })
    if (redisSessionIds.length) await RedisMonitor.deleteSessions(redisSessionIds)
  }
  const memory = await memoryCheck
  const calibration = full
    ? await calibrate(
        {
          ...options,
          cpu: pinned ? APP_CPU : undefined,
          fileLocation: `${TEMPORARY}sessions/calibration-${process.pid}`,
        },
        calibrationCookies
      )
    : []

  const targets = memory ? checkTargets(cells, traffic.satchel, memory, stores) : []
  for (const cell of sharedSessionCells) {
    targets.push({
      pass: Number.isNaN(cell.satchelOverOfficial)
        ? null
        : cell.satchelOverOfficial >= SHARED_SESSION_TARGET,
      line: `${cell.store} / ${cell.route}: adonis-satchel ÷ @adonisjs/session = ${ratioText(cell.satchelOverOfficial)} (target ≥ ${SHARED_SESSION_TARGET})`,
    })
  }
  const about = machine()
  const tables = [
    `Measured ${new Date().toISOString().slice(0, 10)}, ${options.quick ? 'quick' : 'full'} mode (${options.rounds} rounds of ${options.durationSeconds} s)${full ? '' : `, only the ${options.only} pattern`}, ${about.cpus} cores (${about.cpuModel}), Node.js ${about.node}, load average ${loadBefore.toFixed(2)} before the run${pinned ? `, apps pinned to CPU ${APP_CPU} and autocannon to CPU ${LOAD_CPU}` : ', processes not pinned'}.`,
    '',
  ]
  if (cells.length) {
    tables.push(
      `## Requests per second (median of ${options.rounds} interleaved rounds)`,
      '',
      throughputTable(cells),
      ''
    )
  }
  if (sharedSessionCells.length) {
    tables.push(
      `## Requests per second with all ${options.connections} connections on one session (median of ${options.rounds} interleaved rounds)`,
      '',
      throughputTable(sharedSessionCells),
      ''
    )
  }
  if (cells.length) {
    tables.push('## CPU time per request in the app process (median, µs)', '', cpuTable(cells), '')
    const cpuSpeedups = cells.map((cell) => cell.cpuSpeedup).filter((value) => !Number.isNaN(value))
    tables.push(
      `Geometric mean of @adonisjs/session ÷ adonis-satchel CPU per request: ${ratioText(geometricMean(cpuSpeedups))}`,
      ''
    )
  }
  if (sharedSessionCells.length) {
    tables.push(
      `## CPU time per request with all ${options.connections} connections on one session (median, µs)`,
      '',
      cpuTable(sharedSessionCells),
      ''
    )
  }
  if (full && stores.includes('redis')) {
    tables.push('## Redis traffic per request', '', trafficTable(traffic), '')
  }
  if (calibration.length) {
    tables.push(
      '## Calibration: the floor app plus a middleware that spins a known time per request (/none)',
      '',
      calibrationTable(calibration),
      ''
    )
  }
  tables.push('## Targets', '')
  for (const target of targets) {
    tables.push(
      `${target.pass === null ? 'NOT MEASURED' : target.pass ? 'PASS' : 'FAIL'} ${target.line}`
    )
  }
  console.log(`\n${tables.join('\n')}`)

  const results = {
    date: new Date().toISOString(),
    mode: options.quick ? 'quick' : 'full',
    machine: about,
    options,
    pinned,
    seconds: Math.round((Date.now() - started) / 1000),
    loadAverage: { before: loadBefore, after: loadavg()[0] },
    geometricMeanSatchelOverOfficial: geometricMean(
      cells.map((cell) => cell.satchelOverOfficial).filter((value) => !Number.isNaN(value))
    ),
    geometricMeanCpuSpeedup: geometricMean(
      cells.map((cell) => cell.cpuSpeedup).filter((value) => !Number.isNaN(value))
    ),
    cells,
    sharedSessionCells,
    redisTraffic: traffic,
    memory,
    calibration,
    targets: targets.map((target) => ({
      result: target.pass === null ? 'NOT MEASURED' : target.pass ? 'PASS' : 'FAIL',
      target: target.line,
    })),
  }
  const resultsFile = full ? RESULTS_FILE : `${TEMPORARY}results-${options.only}.json`
  await writeFile(resultsFile, `${JSON.stringify(results, null, 2)}\n`)
  console.log(`\nWrote ${resultsFile} (${results.seconds} s)`)
  if (full) {
    console.log(`Wrote ${await writeChart(RESULTS_FILE)}`)
  }
  return targets.every((target) => target.pass !== false)
}

/**
 * Profile mode: warm one app per store up (adonis-satchel by default, or
 * `--profile=official` / `--profile=floor` to compare), then load every route
 * with the app's V8 CPU profiler on (started over IPC, so the boot is not in
 * the profile), and list the functions with the most self time. With
 * `--only=shared`, the routes run with every connection on one session.
 */
async function profile(options: BenchOptions, variant: Variant) {
  const { stores, satchelRedis } = await runnableStores(options)
  const seconds = options.quick ? 2 : 5
  const summary: Record<string, unknown> = {}
  for (const store of stores.filter(
    (name) => name !== 'redis' || satchelRedis || variant !== 'satchel'
  )) {
    const directory = `${TEMPORARY}profiles/${variant}/${store}`
    await rm(directory, { recursive: true, force: true })
    await mkdir(directory, { recursive: true })
    const app = await ChildApp.start({
      variant,
      store,
      fileLocation: `${TEMPORARY}sessions/profile-${process.pid}`,
    })
    const cookies: Record<string, string[]> =
      variant === 'floor'
        ? Object.fromEntries(
            ROUTES.map((route) => [route.seed, Array(options.connections).fill('')])
          )
        : (
            await seedAll(
              { satchel: undefined, official: undefined, floor: undefined, [variant]: app },
              options
            )
          )[variant]
    const files: string[] = []
    const byRoute: Record<string, unknown> = {}
    const shared = options.only === 'shared'
    const routes = shared ? SHARED_SESSION_ROUTES : ROUTES
    if (shared) {
      for (const seed of Object.keys(cookies)) {
        cookies[seed] = cookies[seed].map(() => cookies[seed][0])
      }
    }
    try {
      for (const route of routes) {
        const url = `${app.url}${route.path}`
        await load(url, cookies[route.seed], options.bootWarmupSeconds * 3)
        const file = `${directory}/${route.path.slice(1)}${shared ? '-shared' : ''}.cpuprofile`
        await app.startProfiling()
        const cpuBefore = await app.cpuTime()
        const result = await load(url, cookies[route.seed], seconds)
        const cpuMicrosecondsPerRequest = ((await app.cpuTime()) - cpuBefore) / result.requests
        await app.stopProfiling(file)
        files.push(file)
        const own = (await summariseProfiles([file])).filter(isOwnCode)
        byRoute[route.name] = {
          requestsPerSecond: result.requestsPerSecond,
          cpuMicrosecondsPerRequest,
          ownCode: own.slice(0, 10),
        }
        console.log(
          `${variant} ${store} ${route.name}: ${rateText(result.requestsPerSecond)} req/s, ${rateText(cpuMicrosecondsPerRequest)} µs CPU per request (profiler on)`
        )
      }
    } finally {
      await app.stop()
    }
    if (store === 'redis' && variant !== 'floor') {
      await RedisMonitor.deleteSessions(
        Object.values(cookies)
          .flat()
          .map((cookie) => sessionIdOf(cookie, COOKIE_NAME)!)
      )
    }
    const times = await summariseProfiles(files)
    const own = times.filter(isOwnCode)
    summary[store] = { files, top: times.slice(0, 40), ownCode: own.slice(0, 25), byRoute }
    console.log(
      `\n## ${variant}, ${store}: top self time, all routes (all code)\n\n${profileTable(times.slice(0, 20))}`
    )
    if (variant === 'satchel') {
      console.log(
        `\n## ${store}: adonis-satchel's own functions\n\n${profileTable(own.slice(0, 15))}`
      )
    }
  }
  await rm(`${TEMPORARY}sessions`, { recursive: true, force: true })
  const summaryFile = `${TEMPORARY}profiles/${variant}/summary.json`
  await writeFile(summaryFile, `${JSON.stringify(summary, null, 2)}\n`)
  console.log(`\nWrote ${summaryFile}`)
}

const options = parseOptions(process.argv.slice(2))
if (options.profile) {
  await profile(options, options.profile)
} else {
  const passed = await bench(options)
  if (options.check && !passed) {
    process.exitCode = 1
  }
}
