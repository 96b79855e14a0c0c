/**
 * Directives that let shared caches (CDNs, proxies) store a response.
 */
const SHARED_CACHE_DIRECTIVES = new Set(['public', 's-maxage', 'proxy-revalidate'])

/**
 * The Cache-Control of a response that sets a session cookie, made private so
 * no shared cache stores the cookie and hands it to other users: `public`,
 * `s-maxage` and `proxy-revalidate` go, `private` comes first, every other
 * directive (`max-age`, `no-cache`, `stale-while-revalidate`…) stays. A value
 * already `private` or `no-store` is returned unchanged.
 *
 * @example
 * privateCacheControl('public, max-age=60') // 'private, max-age=60'
 */
export function privateCacheControl(value: string): string {
  const directives = value
    .split(',')
    .map((directive) => directive.trim())
    .filter(Boolean)
  const name = (directive: string) => directive.split('=')[0].trim().toLowerCase()
  if (directives.some((directive) => ['private', 'no-store'].includes(name(directive)))) {
    return value
  }
  const kept = directives.filter((directive) => !SHARED_CACHE_DIRECTIVES.has(name(directive)))
  return ['private', ...kept].join(', ')
}
