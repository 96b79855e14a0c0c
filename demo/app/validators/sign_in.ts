import vine from '@vinejs/vine'

/**
 * The sign-in form: a failed validation flashes the errors and the email
 * (never the password) and redirects back to the form.
 */
export const signInValidator = vine.compile(
  vine.object({
    email: vine.string().trim().email(),
    password: vine.string().minLength(8),
  })
)
