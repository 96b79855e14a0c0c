/**
 * A session value of about one kilobyte once encoded as JSON.
 */
export function profileOfOneKilobyte() {
  return {
    name: 'Ada Lovelace',
    email: 'ada@example.com',
    roles: ['admin', 'editor', 'author'],
    preferences: { theme: 'dark', language: 'en-GB', timezone: 'Europe/London' },
    items: Array.from({ length: 16 }, (_, index) => ({
      id: index + 1,
      title: `Saved item number ${index + 1}`,
    })),
  }
}
