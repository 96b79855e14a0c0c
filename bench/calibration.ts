/**
 * Calibration of the floor ratios: the floor app with a router middleware that
 * spins a known time per request (0, 2, 5, 10 µs), loaded like the cells. It
 * shows what the "÷ floor" targets ask of a session layer on this machine: how
 * far a known cost per request moves requests per second and CPU per request.
 */
import { ChildApp } from './child_app.js'
import { load } from './load.js'
import { median, medianRatio } from './statistics.js'

/**
 * The spin times measured, in microseconds per request.
 */
const BUSY_MICROSECONDS = [0, 2, 5, 10]

/**
 * The route the calibration apps serve under load.
 */
const CALIBRATION_PATH = '/none'

/**
 * One calibration app: its spin time (null for the plain floor) and medians.
 */
export interface CalibrationRow {
  busyMicroseconds: number | null
  medianRequestsPerSecond: number
  /** Requests per second ÷ the plain floor's, median of the rounds' ratios. */
  overFloor: number
  medianCpuMicrosecondsPerRequest: number
  /** CPU per request minus the plain floor's (median of rounds), in µs. */
  addedCpuMicroseconds: number
}

/**
 * Options the calibration shares with the cells.
 */
interface CalibrationOptions {
  rounds: number
  durationSeconds: number
  warmupSeconds: number
  bootWarmupSeconds: number
  cpu: number | undefined
  fileLocation: string
}

/**
 * Boot the plain floor and one busy floor per spin time, load them in
 * interleaved rounds with the cells' cookie headers, and report each against
 * the plain floor.
 */
export async function calibrate(
  options: CalibrationOptions,
  cookieHeaders: string[]
): Promise<CalibrationRow[]> {
  const spins = [undefined, ...BUSY_MICROSECONDS]
  const apps = await Promise.all(
    spins.map((busyMicroseconds) =>
      ChildApp.start({
        variant: 'floor',
        store: 'memory',
        fileLocation: options.fileLocation,
        cpu: options.cpu,
        busyMicroseconds,
      })
    )
  )
  try {
    const rates = apps.map(() => [] as number[])
    const cpu = apps.map(() => [] as number[])
    for (const app of apps) {
      await load(`${app.url}${CALIBRATION_PATH}`, cookieHeaders, options.bootWarmupSeconds)
    }
    for (let round = 0; round < options.rounds; round++) {
      for (const [index, app] of apps.entries()) {
        const before = await app.cpuTime()
        const result = await load(
          `${app.url}${CALIBRATION_PATH}`,
          cookieHeaders,
          options.durationSeconds
        )
        rates[index].push(result.requestsPerSecond)
        cpu[index].push(((await app.cpuTime()) - before) / Math.max(1, result.requests))
      }
    }
    return spins.map((busyMicroseconds, index) => ({
      busyMicroseconds: busyMicroseconds ?? null,
      medianRequestsPerSecond: median(rates[index]),
      overFloor: medianRatio(rates[index], rates[0]),
      medianCpuMicrosecondsPerRequest: median(cpu[index]),
      addedCpuMicroseconds: median(cpu[index].map((value, round) => value - cpu[0][round])),
    }))
  } finally {
    await Promise.all(apps.map((app) => app.stop()))
  }
}

/**
 * The calibration as a markdown table.
 */
export function calibrationTable(rows: CalibrationRow[]): string {
  const lines = [
    '| floor app | req/s | ÷ floor | CPU µs per request | added CPU µs |',
    '|---|---:|---:|---:|---:|',
  ]
  for (const row of rows) {
    const name =
      row.busyMicroseconds === null
        ? 'floor (no middleware)'
        : `floor + middleware spinning ${row.busyMicroseconds} µs`
    lines.push(
      `| ${name} | ${Math.round(row.medianRequestsPerSecond).toLocaleString('en-US')} | ${row.overFloor.toFixed(2)} | ${row.medianCpuMicrosecondsPerRequest.toFixed(0)} | ${row.addedCpuMicroseconds.toFixed(0)} |`
    )
  }
  return lines.join('\n')
}
