import { test } from '@japa/runner'
import { fieldNameWords, isSecretFieldName } from '../src/secret_field_names.js'

test.group('secret field names', () => {
  test('split names at separators, case changes, acronyms and digits', ({ assert }) => {
    assert.deepEqual(fieldNameWords('current_password'), ['current', 'password'])
    assert.deepEqual(fieldNameWords('passwordConfirmation'), ['password', 'confirmation'])
    assert.deepEqual(fieldNameWords('APIKey'), ['api', 'key'])
    assert.deepEqual(fieldNameWords('user-pin 2'), ['user', 'pin', '2'])
    assert.deepEqual(fieldNameWords('cardNumber2'), ['card', 'number', '2'])
  })

  test('recognise secret words in any case and with any separator', ({ assert }) => {
    for (const name of [
      'password',
      'current_password',
      'new-password',
      'passwordConfirmation',
      'PASSWORD_CONFIRMATION',
      'passcode',
      'client_secret',
      'api_token',
      'csrfToken',
      'recovery_tokens',
      'otp',
      'OTPCode',
      'pin',
      'pinCode',
      'pin1',
      'cvv',
      'cvc',
      'ssn',
    ]) {
      assert.isTrue(isSecretFieldName(name), name)
    }
  })

  test('recognise secret word pairs', ({ assert }) => {
    for (const name of [
      'card_number',
      'cardNumber',
      'card-number',
      'cardnumber',
      'credit_card',
      'apiKey',
      'api_key',
      'apikey',
      'private_key',
      'accessKeyId',
      'security_code',
      'recovery_codes',
      'backupCodes',
    ]) {
      assert.isTrue(isSecretFieldName(name), name)
    }
  })

  test('never take a word that merely contains a secret word for a secret', ({ assert }) => {
    for (const name of [
      'pinned',
      'spinach',
      'opinion',
      'tokenizer',
      'secretary',
      'passage',
      'card_holder',
      'key',
      'number',
      'api_version',
      'email',
      'compass',
      'bypass',
    ]) {
      assert.isFalse(isSecretFieldName(name), name)
    }
  })
})
