/**
 * Words that make a form field a secret wherever they appear in its name
 * ("current_password", "apiToken", "OTP", "pin-code").
 */
const SECRET_WORDS = new Set([
  'password',
  'passwd',
  'pwd',
  'passcode',
  'passphrase',
  'secret',
  'token',
  'otp',
  'totp',
  'pin',
  'cvv',
  'cvc',
  'ssn',
  'apikey',
  'cardnumber',
  'creditcard',
])

/**
 * Pairs of words that make a field a secret when they follow each other
 * ("card_number", "apiKey", "private-key", "recovery codes").
 */
const SECRET_WORD_PAIRS = new Set([
  'card number',
  'credit card',
  'api key',
  'private key',
  'access key',
  'security code',
  'recovery code',
  'backup code',
  'verification code',
])

/**
 * The lowercase words of a field name, split at separators (anything but
 * letters and digits), at lower-to-upper case changes ("apiKey") and at the
 * end of an acronym ("OTPCode" gives "otp", "code").
 */
export function fieldNameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/([A-Za-z])([0-9])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean)
}

/**
 * A word without a plural "s" ("tokens", "recovery_codes"), kept as is when
 * short or ending in "ss".
 */
function singular(word: string): string {
  return word.length > 3 && word.endsWith('s') && !word.endsWith('ss') ? word.slice(0, -1) : word
}

/**
 * True when a form field name looks like it holds a secret: one of its words
 * is a secret word (password, passcode, secret, token, otp, pin, cvv, …) or
 * two following words are a secret pair (card number, api key, …). Whole words
 * only, so "pinned", "spinach", "opinion" and "tokenizer" are not secrets.
 */
export function isSecretFieldName(name: string): boolean {
  const words = fieldNameWords(name).map(singular)
  for (let index = 0; index < words.length; index++) {
    if (SECRET_WORDS.has(words[index])) {
      return true
    }
    if (index > 0 && SECRET_WORD_PAIRS.has(`${words[index - 1]} ${words[index]}`)) {
      return true
    }
  }
  return false
}
