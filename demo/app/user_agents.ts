/**
 * A short name for a browser from its user agent ("Chrome/120 on X11").
 */
export function describeAgent(userAgent: string | undefined): string {
  if (!userAgent) return 'Unknown browser'
  const browser = /(Edg|Firefox|HeadlessChrome|Chrome|Safari)\/\d+/.exec(userAgent)?.[0]
  const platform = /\(([^;)]+)/.exec(userAgent)?.[1]
  if (!browser || !platform) return userAgent.slice(0, 60)
  return `${browser.replace('Edg/', 'Edge/')} on ${platform}`
}
