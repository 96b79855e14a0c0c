import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto'
import type { Session } from '../../src/session.js'

/**
 * A user of the demo.
 */
export interface User {
  id: number
  name: string
  email: string
}

/**
 * A password hash with its salt.
 */
interface StoredPassword {
  salt: Buffer
  hash: Buffer
}

function hashPassword(password: string, salt: Buffer = randomBytes(16)): StoredPassword {
  return { salt, hash: scryptSync(password, salt, 32) }
}

/**
 * The demo's users, kept in memory with hashed passwords (no database).
 */
const USERS: (User & { password: StoredPassword })[] = [
  {
    id: 1,
    name: 'Demo User',
    email: 'demo@example.com',
    password: hashPassword('secret-password'),
  },
  {
    id: 2,
    name: 'Ada Lovelace',
    email: 'ada@example.com',
    password: hashPassword('analytical-engine'),
  },
]

/**
 * The user with these credentials, or null. Always hashes once, so a wrong
 * email takes as long as a wrong password.
 */
export function verifyCredentials(email: string, password: string): User | null {
  const user = USERS.find((candidate) => candidate.email === email.toLowerCase())
  const stored = user?.password ?? hashPassword('no-such-user')
  const matches = timingSafeEqual(hashPassword(password, stored.salt).hash, stored.hash)
  return user && matches ? { id: user.id, name: user.name, email: user.email } : null
}

/**
 * The signed-in user of a session, or null.
 */
export function currentUser(session: Session): User | null {
  const user = USERS.find((candidate) => candidate.id === session.get('userId'))
  return user ? { id: user.id, name: user.name, email: user.email } : null
}
