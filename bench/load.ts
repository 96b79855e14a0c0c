import { createRequire } from 'node:module'

/**
 * The part of autocannon's result the benchmark reads.
 */
interface AutocannonResult {
  requests: { total: number }
  duration: number
  errors: number
  timeouts: number
  non2xx: number
  latency: { p50: number; p99: number }
}

/**
 * The programmatic API of autocannon (a CommonJS package without types).
 */
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon

/**
 * The outcome of one load run.
 */
export interface LoadResult {
  requestsPerSecond: number
  requests: number
  latencyP50: number
  latencyP99: number
  /** Connection errors, timeouts and responses that were not 2xx. */
  failures: number
  /** Responses that carried at least one Set-Cookie header. */
  responsesSettingCookies: number
}

/**
 * How a connection treats the cookies responses set.
 */
export interface LoadOptions {
  /**
   * Send the cookies responses set from the next request on, as a browser
   * does, and leave each connection's last Cookie header in `cookieHeaders`
   * (so the next run goes on with them). By default every request replays
   * the header it started with, as autocannon does.
   */
  keepCookies?: boolean
}

/**
 * What autocannon's client exposes to `setupClient`.
 */
interface AutocannonClient {
  setHeaders(headers: Record<string, string>): void
  on(event: 'headers', listener: (info: { headers: string[] }) => void): void
}

/**
 * Load one URL with autocannon for `durationSeconds`, one keep-alive
 * connection per cookie header: each connection is one user, with its own
 * session unless two headers carry the same one.
 */
export async function load(
  url: string,
  cookieHeaders: string[],
  durationSeconds: number,
  options: LoadOptions = {}
): Promise<LoadResult> {
  let nextClient = 0
  let responsesSettingCookies = 0
  const result = await autocannon({
    url,
    connections: cookieHeaders.length,
    duration: durationSeconds,
    sampleInt: 100,
    timeout: 10,
    setupClient(client: AutocannonClient) {
      const index = nextClient++ % cookieHeaders.length
      const cookie = cookieHeaders[index]
      client.setHeaders(cookie ? { cookie } : {})
      client.on('headers', ({ headers }) => {
        const setCookies = setCookieLines(headers)
        if (!setCookies.length) return
        responsesSettingCookies++
        if (options.keepCookies) {
          cookieHeaders[index] = cookieHeaderFrom(setCookies, cookieHeaders[index])
          client.setHeaders({ cookie: cookieHeaders[index] })
        }
      })
    },
  })
  return {
    requestsPerSecond: result.requests.total / result.duration,
    requests: result.requests.total,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
    failures: result.errors + result.timeouts + result.non2xx,
    responsesSettingCookies,
  }
}

/**
 * The Set-Cookie values among raw response headers (name, value, name, …).
 */
function setCookieLines(rawHeaders: string[]): string[] {
  const lines: string[] = []
  for (let index = 0; index < rawHeaders.length; index += 2) {
    if (rawHeaders[index].toLowerCase() === 'set-cookie') lines.push(rawHeaders[index + 1])
  }
  return lines
}

/**
 * The Cookie header a browser would send after these Set-Cookie lines, given
 * the header it sent before (none by default).
 */
export function cookieHeaderFrom(setCookies: string[], before: string = ''): string {
  const jar = new Map<string, string>()
  for (const pair of before.split('; ')) {
    const equals = pair.indexOf('=')
    if (equals > 0) jar.set(pair.slice(0, equals), pair.slice(equals + 1))
  }
  for (const line of setCookies) {
    const pair = line.split(';', 1)[0]
    const equals = pair.indexOf('=')
    const name = pair.slice(0, equals).trim()
    const value = pair.slice(equals + 1).trim()
    if (value === '' || /;\s*max-age=0/i.test(line)) jar.delete(name)
    else jar.set(name, value)
  }
  return [...jar].map(([name, value]) => `${name}=${value}`).join('; ')
}

/**
 * Open `count` sessions by calling a seeding route, and return their Cookie headers.
 */
export async function seedSessions(baseUrl: string, path: string, count: number) {
  const headers: string[] = []
  for (let index = 0; index < count; index++) {
    const response = await fetch(`${baseUrl}${path}`)
    await response.arrayBuffer()
    if (response.status !== 200) {
      throw new Error(`Seeding ${path} on ${baseUrl} answered ${response.status}`)
    }
    const header = cookieHeaderFrom(response.headers.getSetCookie())
    if (!header) {
      throw new Error(`Seeding ${path} on ${baseUrl} set no session cookie`)
    }
    headers.push(header)
  }
  return headers
}

/**
 * The session id inside a signed AdonisJS id cookie, or null.
 */
export function sessionIdOf(cookieHeader: string, cookieName: string): string | null {
  const match = cookieHeader.match(new RegExp(`(?:^|; )${cookieName}=s%3A([^.;]+)\\.`))
  if (!match) return null
  try {
    return JSON.parse(Buffer.from(match[1], 'base64url').toString('utf8')).message
  } catch {
    return null
  }
}
