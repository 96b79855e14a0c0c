import { compose } from '@adonisjs/core/helpers'
import { Hash } from '@adonisjs/core/hash'
import { Scrypt } from '@adonisjs/core/hash/drivers/scrypt'
import { BaseModel, column } from '@adonisjs/lucid/orm'
import { withAuthFinder } from '@adonisjs/auth/mixins/lucid'
import { DbRememberMeTokensProvider } from '@adonisjs/auth/session'

/**
 * The hasher of the integration app's passwords (scrypt, as the AdonisJS starter
 * kits), made here rather than read from the hash service: each test boots an
 * app of its own, and a service keeps the first app's instance.
 */
const hash = new Hash(new Scrypt({}))

const AuthFinder = withAuthFinder(() => hash, {
  uids: ['email'],
  passwordColumnName: 'password',
})

/**
 * The user of the integration app, as `node ace make:model` and the auth
 * starter kit write it: Lucid on SQLite, password login, remember-me tokens.
 */
export default class User extends compose(BaseModel, AuthFinder) {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare email: string

  @column({ serializeAs: null })
  declare password: string

  static rememberMeTokens = DbRememberMeTokensProvider.forModel(User)
}
