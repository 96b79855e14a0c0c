/**
 * The three apps the benchmark compares.
 * - `satchel`: adonis-satchel from the repository source
 * - `official`: @adonisjs/session 7.x
 * - `floor`: the same app without any session middleware
 */
export type Variant = 'satchel' | 'official' | 'floor'

/**
 * The session stores the benchmark covers.
 */
export type StoreName = 'cookie' | 'memory' | 'file' | 'redis'

/**
 * Redis traffic a benchmark app sent, counted on its socket: writes and round
 * trips (batches sent before an answer came back), plus the local port of its
 * connection, to find its commands in `MONITOR`.
 */
export interface RedisTraffic {
  writes: number
  roundTrips: number
  localPort: number | null
}

/**
 * Messages a benchmark app sends to the parent.
 */
export type ChildMessage =
  | { type: 'ready'; url: string }
  | { type: 'failed'; error: string }
  | ({ type: 'redis-stats' } & RedisTraffic)
  | { type: 'cpu-usage'; microseconds: number }
  | { type: 'profile-started' }
  | { type: 'profile-written' }

/**
 * Messages the parent sends to a benchmark app.
 */
export type ParentMessage =
  | { type: 'redis-stats' }
  | { type: 'cpu-usage' }
  | { type: 'profile-start' }
  | { type: 'profile-stop'; path: string }
  | { type: 'exit' }
