/**
 * Sessions that "Sign out my other devices" ended, so the device that still
 * holds such a session's cookie can be told why it was signed out on its next
 * request. Kept in memory, like the demo's users: one process, lost on restart.
 */
export interface SignedOutDevice {
  /** The browser that signed this device out. */
  by: string
  /** When (epoch milliseconds). */
  at: number
}

const ENDED = new Map<string, SignedOutDevice>()

/** Remember that these sessions were ended from another device. */
export function rememberSignedOut(sessionIds: string[], by: string) {
  for (const sessionId of sessionIds) {
    ENDED.set(sessionId, { by, at: Date.now() })
  }
}

/** Why the session with this id ended, once: the entry is forgotten when read. */
export function takeSignedOut(sessionId: string | undefined): SignedOutDevice | undefined {
  if (!sessionId) return undefined
  const entry = ENDED.get(sessionId)
  ENDED.delete(sessionId)
  return entry
}
