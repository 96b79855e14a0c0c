/**
 * The benchmark's report: markdown tables, the issue's targets as PASS/FAIL,
 * and the machine the figures come from.
 */
import { cpus, totalmem } from 'node:os'
import type { MemoryCheckResult } from './memory_check.js'
import { TRAFFIC_SCENARIOS, TRIP_LIMITS, type CellResult, type TrafficResult } from './scenarios.js'
import { geometricMean } from './statistics.js'
import type { StoreName, Variant } from './types.js'

/**
 * A target line: what was checked, the value, and whether it passed.
 */
export interface TargetResult {
  pass: boolean | null
  line: string
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })
/** A ratio with two decimals, or n/a. */
export const ratioText = (value: number) => (Number.isNaN(value) ? 'n/a' : value.toFixed(2))
/** A rate or duration as a whole number with thousands separators, or n/a. */
export const rateText = (value: number) => (Number.isNaN(value) ? 'n/a' : integer.format(value))
/** Bytes as megabytes with two decimals. */
export const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MB`

/**
 * The markdown table of requests per second and ratios.
 */
export function throughputTable(cells: CellResult[]): string {
  const lines = [
    '| store | route | floor req/s | @adonisjs/session req/s | adonis-satchel req/s | satchel ÷ official | satchel ÷ floor | official ÷ floor |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  ]
  for (const cell of cells) {
    const rates = cell.medianRequestsPerSecond
    lines.push(
      `| ${cell.store} | ${cell.route} | ${rateText(rates.floor)} | ${rateText(rates.official)} | ${rateText(rates.satchel)} | ${ratioText(cell.satchelOverOfficial)} | ${ratioText(cell.satchelOverFloor)} | ${ratioText(cell.officialOverFloor)} |`
    )
  }
  return lines.join('\n')
}

/**
 * The markdown table of CPU time per request in each app process.
 */
export function cpuTable(cells: CellResult[]): string {
  const lines = [
    '| store | route | floor µs | @adonisjs/session µs | adonis-satchel µs | official ÷ satchel |',
    '|---|---|---:|---:|---:|---:|',
  ]
  for (const cell of cells) {
    const cpu = cell.medianCpuMicrosecondsPerRequest
    lines.push(
      `| ${cell.store} | ${cell.route} | ${rateText(cpu.floor)} | ${rateText(cpu.official)} | ${rateText(cpu.satchel)} | ${ratioText(cell.cpuSpeedup)} |`
    )
  }
  return lines.join('\n')
}

/**
 * The markdown table of Redis traffic per request.
 */
export function trafficTable(traffic: Partial<Record<Variant, TrafficResult[]>>): string {
  const lines = [
    '| request | @adonisjs/session round trips | commands | adonis-satchel round trips | commands |',
    '|---|---:|---|---:|---|',
  ]
  const describe = (result?: TrafficResult) =>
    result
      ? `${result.roundTrips} | ${result.commands} ${result.commandNames.length ? `(${result.commandNames.join(', ')})` : ''}`
      : 'n/a | n/a'
  for (const [index, scenario] of TRAFFIC_SCENARIOS.entries()) {
    lines.push(
      `| ${scenario.name} | ${describe(traffic.official?.[index])} | ${describe(traffic.satchel?.[index])} |`
    )
  }
  return lines.join('\n')
}

/**
 * Check the issue's targets; a target that could not be measured is neither
 * PASS nor FAIL but NOT MEASURED.
 */
export function checkTargets(
  cells: CellResult[],
  traffic: TrafficResult[] | undefined,
  memory: MemoryCheckResult,
  storesRun: StoreName[]
): TargetResult[] {
  const targets: TargetResult[] = []
  const ratios = cells
    .map((cell) => cell.satchelOverOfficial)
    .filter((value) => !Number.isNaN(value))
  const mean = geometricMean(ratios)
  targets.push({
    pass: ratios.length === cells.length && ratios.length > 0 ? mean >= 2.5 : null,
    line: `geometric mean of adonis-satchel ÷ @adonisjs/session over ${ratios.length} of ${cells.length} cells = ${ratioText(mean)} (target ≥ 2.5)`,
  })
  for (const cell of cells) {
    const limit = cell.store === 'cookie' || cell.store === 'memory' ? 0.75 : 0.5
    targets.push({
      pass: Number.isNaN(cell.satchelOverFloor) ? null : cell.satchelOverFloor >= limit,
      line: `${cell.store} / ${cell.route}: adonis-satchel ÷ floor = ${ratioText(cell.satchelOverFloor)} (target ≥ ${limit})`,
    })
  }
  if (storesRun.includes('redis')) {
    for (const [index, scenario] of TRAFFIC_SCENARIOS.entries()) {
      const result = traffic?.[index]
      const limit = TRIP_LIMITS[scenario.kind]
      /* With the local cache a read makes no round trip and refreshes the TTL once a minute. */
      const atMost = scenario.kind === 'write' || process.env.BENCH_REDIS_LOCAL_CACHE === '1'
      const target = atMost ? `≤ ${limit}` : `${limit}`
      targets.push({
        pass: result ? result.roundTrips <= limit && (atMost || result.roundTrips === limit) : null,
        line: `redis round trips, ${scenario.name} (${scenario.kind}): ${result ? result.roundTrips : 'n/a'} per request (target ${target})`,
      })
    }
  } else {
    targets.push({ pass: null, line: 'redis round trips (Redis not available)' })
  }
  const growth = memory.heapAfter - memory.heapBefore
  targets.push({
    pass:
      growth < 1024 * 1024 && memory.entriesAfter <= 1 && memory.entriesAtPeak >= memory.sessions,
    line: `memory store: ${integer.format(memory.sessions)} sessions created (${integer.format(memory.entriesAtPeak)} entries at peak) and expired, heap ${megabytes(memory.heapBefore)} → peak ${megabytes(memory.heapPeak)} → ${megabytes(memory.heapAfter)} (growth ${megabytes(growth)}, target < 1 MB), ${memory.entriesAfter} entry left`,
  })
  return targets
}

/**
 * The machine the numbers come from.
 */
export function machine() {
  const processors = cpus()
  return {
    cpus: processors.length,
    cpuModel: processors[0]?.model ?? 'unknown',
    memory: `${Math.round(totalmem() / 1024 ** 3)} GB`,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  }
}
