/**
 * `npm run demo`: start the demo app in demo/ straight from the TypeScript
 * sources (no build step). PORT, HOST and SESSION_DRIVER apply. Source maps
 * are on, so stack traces and error pages point at the TypeScript lines.
 */
process.setSourceMapsEnabled(true)
process.chdir(new URL('..', import.meta.url).pathname)
await import('ts-node-maintained/register/esm')
await import('../demo/bin/server.ts')
