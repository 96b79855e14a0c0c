import vine from '@vinejs/vine'

/**
 * The sign-in form: a failed validation flashes the errors and the email
 * (never the password) and redirects back to the form. "Remember me" is a
 * checkbox, true when ticked.
 */
export const signInValidator = vine.compile(
  vine.object({
    email: vine.string().trim().email().toLowerCase(),
    password: vine.string().minLength(8),
    remember: vine.boolean().optional(),
  })
)
