import type { StoreName, Variant } from './types.js'

/**
 * The session cookie name both session packages use in the benchmark.
 */
export const COOKIE_NAME = 'adonis-session'

/**
 * Every store the benchmark covers.
 */
export const STORES: StoreName[] = ['cookie', 'memory', 'file', 'redis']
/**
 * The apps compared, in the order of each round.
 */
export const VARIANTS: Variant[] = ['satchel', 'official', 'floor']

/**
 * The routes under load. Each request carries the cookie of a session opened
 * by the seeding route, so reads hit a real session.
 */
export const ROUTES = [
  { name: 'no session use', path: '/none', seed: '/seed' },
  { name: 'read 1 key', path: '/read', seed: '/seed' },
  { name: 'write 1 key', path: '/write', seed: '/seed' },
  { name: 'flash', path: '/flash', seed: '/seed' },
  { name: 'read 1 KB session', path: '/read-1kb', seed: '/seed-1kb' },
] as const

/**
 * The routes also run with every connection on ONE session (a page firing
 * parallel API calls): the case the lost-update protection exists for.
 */
export const SHARED_SESSION_ROUTES = [
  { name: 'write, 1 shared session', path: '/write', seed: '/seed' },
  { name: 'flash, 1 shared session', path: '/flash', seed: '/seed' },
] as const

/**
 * What adonis-satchel ÷ @adonisjs/session should reach, in requests per
 * second, when the connections share one session.
 */
export const SHARED_SESSION_TARGET = 1.5

/**
 * The Redis requests whose traffic is counted, and what each may cost.
 */
export const TRAFFIC_SCENARIOS = [
  { name: 'no cookie, /none', path: '/none', seed: null, kind: 'no cookie' },
  { name: 'no cookie, /read', path: '/read', seed: null, kind: 'no cookie' },
  { name: '/none', path: '/none', seed: '/seed', kind: 'read' },
  { name: '/read', path: '/read', seed: '/seed', kind: 'read' },
  { name: '/read-1kb', path: '/read-1kb', seed: '/seed-1kb', kind: 'read' },
  { name: '/write', path: '/write', seed: '/seed', kind: 'write' },
  { name: '/flash', path: '/flash', seed: '/seed', kind: 'write' },
] as const

/**
 * Round trips allowed per kind of request.
 */
export const TRIP_LIMITS = { 'no cookie': 0, 'read': 1, 'write': 2 } as const

/**
 * One route on one store: requests per second of each app per round, and the
 * medians of the ratios of each round.
 */
export interface CellResult {
  store: StoreName
  route: string
  path: string
  requestsPerSecond: Record<Variant, number[]>
  medianRequestsPerSecond: Record<Variant, number>
  satchelOverOfficial: number
  satchelOverFloor: number
  officialOverFloor: number
  /** CPU time of the app process per request (µs): robust when the machine is busy. */
  cpuMicrosecondsPerRequest: Record<Variant, number[]>
  medianCpuMicrosecondsPerRequest: Record<Variant, number>
  /** @adonisjs/session's CPU per request ÷ adonis-satchel's (median of rounds). */
  cpuSpeedup: number
  failedRequests: number
}

/**
 * Redis traffic of one kind of request, per request.
 */
export interface TrafficResult {
  scenario: string
  kind: keyof typeof TRIP_LIMITS
  roundTrips: number
  commands: number
  commandNames: string[]
}
