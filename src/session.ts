import Macroable from '@poppinss/macroable'
import type { HttpContext } from '@adonisjs/core/http'
import type { EmitterService } from '@adonisjs/core/types'
import { debugSecrets } from './debug.js'
import { getPath } from './data_paths.js'
import { flashesLegacyErrorsKey } from './framework.js'
import {
  omitPaths,
  pickPaths,
  ReadOnlyValuesStore,
  ValuesStore,
  type TrackedChange,
} from './values_store.js'
import {
  generateSessionId,
  isDueForReissue,
  type SessionCookies,
  type SessionIdCookie,
} from './session_cookies.js'
import { METADATA_KEY, snapshotOf, unstorableReason } from './payload.js'
import {
  COOKIE_FLASH_INPUT_LIMITS,
  DEFAULT_FLASH_INPUT_LIMITS,
  flashableInput,
  smallestLimits,
} from './flashable_input.js'
import {
  E_SESSION_INVALID_VALUE,
  E_SESSION_NOT_MUTABLE,
  E_SESSION_NOT_READY,
  E_SESSION_SKIPPED,
  E_SESSION_TAGGING_NOT_SUPPORTED,
} from './errors.js'
import type {
  AllowedSessionValues,
  ResolvedSessionConfig,
  SessionChanges,
  SessionData,
  SessionMetadata,
  SessionOperation,
  SessionStoreCapabilities,
  SessionStoreContract,
  SessionStoreWithMergeContract,
  SessionStoreWithTaggingContract,
} from './types.js'

/**
 * How stale `lastSeenAt` may get before a read-only request refreshes it.
 */
const LAST_SEEN_RESOLUTION_MS = 60_000

/**
 * The key of the intended URL, shared with @adonisjs/session 8.x.
 */
const INTENDED_URL_KEY = 'redirect.intendedUrl'

/**
 * True for a same-site, relative path ("/dashboard?tab=1"): never a scheme,
 * host or protocol-relative URL, so it cannot become an open redirect.
 */
export function isSafeRedirectPath(url: unknown): url is string {
  return (
    typeof url === 'string' &&
    url.startsWith('/') &&
    !url.startsWith('//') &&
    !url.startsWith('/\\') &&
    !url.includes('\\') &&
    ![...url].some((character) => character.charCodeAt(0) < 32)
  )
}

/**
 * The operation a store replays for a change below the top level: a replaced
 * path carries the value it holds now (removed when undefined).
 */
function operationOf(change: TrackedChange, values: SessionData): SessionOperation {
  if (change.kind === 'increment') {
    return { type: 'increment', path: change.path, by: change.by }
  }
  if (change.kind === 'push') {
    return { type: 'push', path: change.path, items: change.items }
  }
  const value = getPath(values, change.path)
  return value === undefined
    ? { type: 'unset', path: change.path }
    : { type: 'set', path: change.path, value }
}

/**
 * The default summary flashed under `errorsBag.E_VALIDATION_ERROR`.
 */
const VALIDATION_SUMMARY = 'The form could not be saved. Please check the errors below.'

/**
 * The session of one HTTP request: values, flash messages, regeneration and
 * the commit that persists them. Available as `ctx.session`.
 */
export class Session extends Macroable {
  #ctx: HttpContext
  #emitter: EmitterService
  #store: SessionStoreContract
  #cookies: SessionCookies

  #initiated = false
  #skipped = false
  #readonly = false
  #fresh = true
  #sessionId: string | undefined
  #idCookie: SessionIdCookie | undefined
  #storedData: SessionData | null = null
  #metadata: SessionMetadata | undefined
  #metadataChanged = false
  #regenerated = false
  /** The id `tag()` already linked in this request, so commit does not link it twice. */
  #taggedSessionId: string | undefined
  /** A user to link at commit (`tagOnCommit`); null unlinks the session. */
  #pendingTag: string | null | undefined
  #invalidated = false
  #valuesStore: ValuesStore | undefined
  #flashMessages: ValuesStore | undefined
  #responseFlashMessages: ValuesStore | undefined
  /**
   * Set by commit (true when it stored the session), cleared by the first
   * change after it: that change is a late write.
   */
  #committed: boolean | undefined
  #onChangeAfterCommit: ((ctx: HttpContext, session: Session) => void) | undefined

  /** The name of the store in use. */
  readonly storeName: string

  /** The resolved session config. */
  readonly config: ResolvedSessionConfig

  /** The key of flash data inside the session (as @adonisjs/session). */
  flashKey = '__flash__'

  constructor(
    ctx: HttpContext,
    config: ResolvedSessionConfig,
    storeName: string,
    store: SessionStoreContract,
    cookies: SessionCookies,
    emitter: EmitterService
  ) {
    super()
    this.#ctx = ctx
    this.config = config
    this.storeName = storeName
    this.#store = store
    this.#cookies = cookies
    this.#emitter = emitter
  }

  /** The session id; a new session gets one the first time it is asked. */
  get sessionId(): string {
    this.#sessionId ??= generateSessionId()
    return this.#sessionId
  }

  /** True when the request brought no live session. */
  get fresh(): boolean {
    return this.#fresh
  }

  /** True when opened read-only: writes throw and nothing is committed. */
  get readonly(): boolean {
    return this.#readonly
  }

  /** True once the middleware (or `initiate`) loaded the session. */
  get initiated(): boolean {
    return this.#initiated
  }

  /**
   * True when the route is in the config's `skip` list: the session is empty
   * and its writes live only for this request (nothing read, stored or sent).
   */
  get skipped(): boolean {
    return this.#skipped
  }

  /**
   * Answer as an empty session whose writes live only for this request: no
   * store call, no cookie, flash messages not aged. The middleware calls it on
   * skipped routes, so code that reads `ctx.session` on every request (the
   * CSRF guard of @adonisjs/shield, @adonisjs/auth) keeps working there.
   * `initiate(true)` can still open the real session read-only.
   */
  skip(): void {
    if (this.#initiated) {
      return
    }
    this.#skipped = true
    this.#load(null)
  }

  /** True when `regenerate()` was called during this request. */
  get hasRegeneratedSession(): boolean {
    return this.#regenerated
  }

  /** True when the session holds no value. */
  get isEmpty(): boolean {
    return this.#values().isEmpty
  }

  /** True when a value changed during this request. */
  get hasBeenModified(): boolean {
    return this.#values().hasBeenModified
  }

  /** Metadata kept next to the data: created at, last seen at, IP address, user agent. */
  get metadata(): SessionMetadata | undefined {
    return this.#metadata
  }

  /** The flash messages the previous request left (read-only for this request). */
  get flashMessages(): ValuesStore {
    this.#values()
    return this.#flashMessages!
  }

  /** The flash messages this request sends to the next one. */
  get responseFlashMessages(): ValuesStore {
    this.#responseFlashMessages ??= new ValuesStore({})
    return this.#responseFlashMessages
  }

  /**
   * Load the session from its cookie and store. Called by the middleware;
   * `readonly` opens it for reading only (websocket-style use).
   */
  async initiate(readonly: boolean): Promise<void> {
    if (this.#initiated) {
      return
    }
    if (this.#skipped && !readonly) {
      throw new E_SESSION_SKIPPED(['open the session writable', this.#routeName()])
    }
    this.#readonly = readonly
    const cookie = this.#cookies.readSessionId(this.#ctx)
    let data: SessionData | null = null
    if (cookie) {
      this.#idCookie = cookie
      data = await this.#readStored(cookie.id, readonly)
    }
    const ended = data && this.#mayEnd() ? await this.#endReason(data) : undefined
    if (ended) {
      debugSecrets(`session %s ${ended}, starting a new one`, cookie!.id)
      if (!readonly) {
        await this.#store.destroy(cookie!.id)
      }
      data = null
    }
    if (data) {
      this.#fresh = false
      this.#sessionId = cookie!.id
      this.#storedData = data
      debugSecrets('initiated session %s', cookie!.id)
    } else if (cookie) {
      debugSecrets('session cookie names no live session %s, issuing a new id', cookie.id)
    }
    this.#load(data)
    this.#initiated = true
    if (this.#emitter.hasListeners('session:initiated')) {
      await this.#emitter.emit('session:initiated', { session: this })
    }
  }

  /** Read the stored data; a readonly session peeks, so it never extends the expiry. */
  #readStored(sessionId: string, readonly: boolean) {
    const store = this.#store as SessionStoreContract & SessionStoreCapabilities
    return readonly && store.peek ? store.peek(sessionId) : store.read(sessionId)
  }

  /** Split stored data into values, metadata and the previous request's flash. */
  #load(data: SessionData | null) {
    const values: SessionData = {}
    let flash: unknown
    for (const key in data) {
      if (!Object.hasOwn(data, key) || key === '__proto__') continue
      if (key === METADATA_KEY) {
        const metadata = data[key]
        if (metadata && typeof metadata === 'object') {
          this.#metadata = metadata as SessionMetadata
        }
      } else if (key === this.flashKey) {
        flash = data[key]
      } else {
        values[key] = data[key]
      }
    }
    this.#valuesStore = new ValuesStore(values)
    if (flash !== undefined) {
      this.#valuesStore.markChanged(this.flashKey)
    }
    this.#flashMessages = new ValuesStore(
      flash && typeof flash === 'object' ? (flash as SessionData) : null
    )
    this.#shareWithTemplates()
  }

  /** Give Edge templates read-only access to the session and flash messages. */
  #shareWithTemplates() {
    const view = (this.#ctx as any).view
    if (!view) {
      return
    }
    const flashMessages = this.#flashMessages!
    view.share({
      session: new ReadOnlyValuesStore(this.#valuesStore!.all()),
      flashMessages: new ReadOnlyValuesStore(flashMessages.all()),
      old: (key: string, defaultValue?: any) => flashMessages.get(key, defaultValue),
    })
  }

  /** True when the config can end a stored session early (maxLifetime, revocation). */
  #mayEnd(): boolean {
    return !!this.config.maxLifetimeInSeconds || !!this.config.cookieRevocation
  }

  /**
   * Why a stored session must not be used any more, or undefined: it outlived
   * `maxLifetime` (counted from its creation, so nothing extends it), or its
   * user's `cookieRevocation.validAfter` time is later than its tagging.
   */
  async #endReason(data: SessionData): Promise<string | undefined> {
    const metadata = data[METADATA_KEY] as SessionMetadata | undefined
    if (!metadata || typeof metadata !== 'object') {
      return undefined
    }
    const maxLifetime = this.config.maxLifetimeInSeconds
    if (
      maxLifetime &&
      typeof metadata.createdAt === 'number' &&
      metadata.createdAt + maxLifetime * 1000 <= Date.now()
    ) {
      return 'outlived maxLifetime'
    }
    const revocation = this.config.cookieRevocation
    if (!revocation || typeof metadata.userId !== 'string') {
      return undefined
    }
    const validAfter = await revocation.validAfter(metadata.userId, this.#ctx)
    if (validAfter === undefined || validAfter === null) {
      return undefined
    }
    const issuedAt = metadata.taggedAt ?? metadata.createdAt
    const threshold = validAfter instanceof Date ? validAfter.getTime() : Number(validAfter)
    return typeof issuedAt === 'number' && issuedAt >= threshold
      ? undefined
      : "was revoked (tagged before the user's validAfter time)"
  }

  #values(): ValuesStore {
    if (!this.#valuesStore) {
      throw new E_SESSION_NOT_READY()
    }
    return this.#valuesStore
  }

  /** The route pattern (or the URL) of the request, for error messages. */
  #routeName(): string {
    return this.#ctx.route?.pattern ?? this.#ctx.request.url()
  }

  /** Throw when the route is skipped, where the session cannot reach its store. */
  #assertNotSkipped(action: string) {
    if (this.#skipped && !this.#initiated) {
      throw new E_SESSION_SKIPPED([action, this.#routeName()])
    }
  }

  #mutable(): ValuesStore {
    const values = this.#values()
    if (this.#readonly) {
      throw new E_SESSION_NOT_MUTABLE()
    }
    if (this.#committed !== undefined) {
      return this.#startLateWrites(this.#committed)
    }
    return values
  }

  /**
   * The first change after a commit: what was committed becomes the stored
   * state, so the next commit stores only the changes made from now on (or
   * the whole session when the commit stored nothing).
   */
  #startLateWrites(stored: boolean): ValuesStore {
    this.#committed = undefined
    this.#fresh = !stored
    this.#regenerated = false
    this.#metadataChanged = false
    this.#valuesStore = new ValuesStore(this.#values().all())
    this.#onChangeAfterCommit?.(this.#ctx, this)
    return this.#valuesStore
  }

  /**
   * Call `callback` once when the session changes after it committed (e.g. a
   * flash in an exception's `handle()` that AdonisJS 7 runs after the
   * middleware returned), so the change can be committed before the response
   * goes out. `commit()` may be called again for it: it stores only what
   * changed since.
   */
  whenChangedAfterCommit(callback: (ctx: HttpContext, session: Session) => void): void {
    this.#onChangeAfterCommit = callback
  }

  #assertStorable(key: string, value: unknown) {
    const reason = unstorableReason(value)
    if (reason) {
      throw new E_SESSION_INVALID_VALUE([key, reason])
    }
  }

  /**
   * Store a value by dot path, or several at once with an object.
   * `undefined` removes the key.
   */
  put(key: string, value: AllowedSessionValues | undefined): void
  put(values: Record<string, AllowedSessionValues | undefined>): void
  put(key: string | Record<string, any>, value?: AllowedSessionValues): void {
    const values = this.#mutable()
    if (typeof key === 'object' && key !== null) {
      for (const name of Object.keys(key)) {
        this.#assertStorable(name, key[name])
      }
      for (const name of Object.keys(key)) {
        values.set(name, key[name])
      }
      return
    }
    this.#assertStorable(key, value)
    values.set(key, value)
  }

  /** True when a key holds a truthy value (and non-empty arrays). */
  has(key: string): boolean {
    return this.#values().has(key)
  }

  /** Read a value by dot path. */
  get(key: string, defaultValue?: any): any {
    return this.#values().get(key, defaultValue)
  }

  /** All values of the session. */
  all(): SessionData {
    return this.#values().all()
  }

  /** Only the given top-level keys. */
  only(keys: string[]): SessionData {
    const result: SessionData = {}
    for (const key of keys) {
      const value = this.#values().get(key)
      if (value !== undefined) result[key] = value
    }
    return result
  }

  /** Every value but the given top-level keys. */
  except(keys: string[]): SessionData {
    const result: SessionData = { ...this.#values().all() }
    for (const key of keys) delete result[key]
    return result
  }

  /** Append a value to the array at a key (created when missing). */
  push(key: string, value: AllowedSessionValues): void {
    const values = this.#mutable()
    this.#assertStorable(key, value)
    values.push(key, value)
  }

  /** Remove one key, or several. */
  forget(key: string | string[]): void {
    const values = this.#mutable()
    for (const name of Array.isArray(key) ? key : [key]) {
      values.unset(name)
    }
  }

  /** Read and remove a value. */
  pull(key: string, defaultValue?: any): any {
    return this.#mutable().pull(key, defaultValue)
  }

  /** Add to a number (0 when missing); a non-number throws naming the key. */
  increment(key: string, steps: number = 1): void {
    this.#mutable().increment(key, steps)
  }

  /** Subtract from a number (0 when missing). */
  decrement(key: string, steps: number = 1): void {
    this.#mutable().decrement(key, steps)
  }

  /** Remove every value. */
  clear(): void {
    this.#mutable().clear()
    this.#shareWithTemplates()
  }

  /**
   * Flash a value (or several) to the next request. A falsy value given by key
   * is ignored, as in @adonisjs/session; an object is merged deeply into what
   * this request flashed already.
   */
  flash(key: string, value: AllowedSessionValues): void
  flash(values: SessionData): void
  flash(key: string | SessionData, value?: AllowedSessionValues): void {
    this.#mutable()
    if (typeof key === 'string') {
      if (value) {
        this.#assertStorable(key, value)
        this.responseFlashMessages.set(key, value)
      }
      return
    }
    for (const name of Object.keys(key)) {
      this.#assertStorable(name, key[name])
    }
    this.responseFlashMessages.merge(key)
  }

  /** Flash error messages that `@error` reads (`errorsBag`), merged into existing ones. */
  flashErrors(errors: Record<string, string | string[]>): void {
    this.flash({ errorsBag: errors })
  }

  /**
   * The request input minus the fields that are never flashed (`neverFlash`
   * and secret-looking names, at any depth) and the fields over the
   * `flashInputLimits`.
   */
  #flashableInput(): SessionData {
    const limits = this.config.flashInputLimitsInBytes ?? DEFAULT_FLASH_INPUT_LIMITS
    const inCookie = (this.#store as SessionStoreCapabilities).keepsDataInCookies === true
    return flashableInput(this.#ctx.request.original(), {
      neverFlash: new Set(this.config.neverFlash),
      detectSecretFields: this.config.detectSecretFields !== false,
      limits: inCookie ? smallestLimits(limits, COOKIE_FLASH_INPUT_LIMITS) : limits,
    })
  }

  /** Flash the whole request input (minus secret fields) as old input. */
  flashAll(): void {
    this.#mutable()
    this.responseFlashMessages.set('input', this.#flashableInput())
  }

  /** Flash the request input except some top-level fields. */
  flashExcept(keys: string[]): void {
    this.#mutable()
    const input = this.#flashableInput()
    for (const key of keys) delete input[key]
    this.responseFlashMessages.set('input', input)
  }

  /** Flash only some top-level fields of the request input. */
  flashOnly(keys: string[]): void {
    this.#mutable()
    const input = this.#flashableInput()
    const picked: SessionData = {}
    for (const key of keys) {
      if (Object.hasOwn(input, key)) picked[key] = input[key]
    }
    this.responseFlashMessages.set('input', picked)
  }

  /** Keep all of the previous request's flash messages for one more request. */
  reflash(): void {
    this.#mutable()
    this.responseFlashMessages.set('reflashed', { ...this.flashMessages.all() })
  }

  /**
   * Keep some of the previous request's flash messages for one more request;
   * keys may be dot paths (`'errors.email'`).
   */
  reflashOnly(keys: string[]): void {
    this.#mutable()
    this.responseFlashMessages.set('reflashed', pickPaths(this.flashMessages.all(), keys))
  }

  /**
   * Keep the previous request's flash messages but some, for one more request;
   * keys may be dot paths (`'input.password'`).
   */
  reflashExcept(keys: string[]): void {
    this.#mutable()
    this.responseFlashMessages.set('reflashed', omitPaths(this.flashMessages.all(), keys))
  }

  /** Same as `reflashOnly` (Laravel's name). */
  keep(keys: string[]): void {
    this.reflashOnly(keys)
  }

  /**
   * Flash the messages of a validation error (VineJS `E_VALIDATION_ERROR`):
   * `inputErrorsBag` by field (also as the legacy `errors` on AdonisJS 6, as
   * @adonisjs/session 7.x does; 8.x dropped it), a summary under
   * `errorsBag[code]` (translated by @adonisjs/i18n when present, key
   * `errors.<code>`) and, unless `withInput` is false, the input without the
   * `neverFlash` fields.
   */
  flashValidationErrors(error: { code?: string; messages?: unknown }, withInput: boolean = true) {
    this.#mutable()
    const messages = Array.isArray(error.messages) ? error.messages : []
    const byField: Record<string, string[]> = Object.create(null)
    for (const { field, message } of messages as { field: string; message: string }[]) {
      ;(byField[field] ??= []).push(message)
    }
    if (withInput) {
      this.flashAll()
    }
    const code = String(error.code ?? 'E_VALIDATION_ERROR')
    const i18n = (
      this.#ctx as { i18n?: { t(key: string, data: object, fallback: string): string } }
    ).i18n
    const summary = i18n
      ? i18n.t(`errors.${code}`, { count: messages.length }, VALIDATION_SUMMARY)
      : VALIDATION_SUMMARY
    this.flashErrors({ [code]: summary })
    this.flash(
      flashesLegacyErrorsKey
        ? { inputErrorsBag: byField, errors: byField }
        : { inputErrorsBag: byField }
    )
  }

  /**
   * Remember where to send the user after signing in, under
   * `redirect.intendedUrl`. Only same-site paths ("/orders?page=2") are kept;
   * anything else is ignored (as in @adonisjs/session 8.x), so it can never
   * become an open redirect.
   */
  setIntendedUrl(url: string): void {
    if (isSafeRedirectPath(url)) {
      this.put(INTENDED_URL_KEY, url)
    }
  }

  /** The remembered intended URL, or null. */
  getIntendedUrl(): string | null {
    const url = this.get(INTENDED_URL_KEY)
    return isSafeRedirectPath(url) ? url : null
  }

  /** Read and forget the intended URL (null when none). */
  pullIntendedUrl(): string | null {
    const url = this.getIntendedUrl()
    this.clearIntendedUrl()
    return url
  }

  /** Forget the intended URL. */
  clearIntendedUrl(): void {
    if (this.#values().get(INTENDED_URL_KEY) !== undefined) {
      this.forget(INTENDED_URL_KEY)
    }
  }

  /**
   * Give the session a new id at commit, keeping its data; the old id is
   * destroyed in the same commit (prevents session fixation). Call it on login.
   */
  regenerate(): void {
    this.#mutable()
    this.#regenerated = true
    const previousId = this.#sessionId
    this.#sessionId = generateSessionId()
    debugSecrets('regenerated session %s as %s', previousId, this.#sessionId)
  }

  /** Clear every value and regenerate: the logout call. */
  invalidate(): void {
    this.clear()
    this.#flashMessages = new ValuesStore({})
    this.#responseFlashMessages = undefined
    this.#invalidated = true
    this.#metadata = undefined
    this.#shareWithTemplates()
    this.regenerate()
  }

  /** True when the store can link sessions to users. */
  supportsTagging(): boolean {
    const store = this.#store as Partial<SessionStoreWithTaggingContract>
    return typeof store.tag === 'function' && typeof store.tagged === 'function'
  }

  #taggingStore(): SessionStoreWithTaggingContract {
    if (!this.supportsTagging()) {
      throw new E_SESSION_TAGGING_NOT_SUPPORTED([this.storeName])
    }
    return this.#store as SessionStoreWithTaggingContract
  }

  /**
   * Link this session to a user, so `tagged(userId)` lists it and
   * `destroyTagged(userId)` can end it. Call it after login. On the cookie
   * store with `cookieRevocation` configured, it records the user (and the
   * time) inside the sealed cookie for revocation checks; listing stays
   * unsupported there.
   */
  async tag(userId: string | number): Promise<void> {
    this.#assertNotSkipped('tag the session')
    const store = this.#taggingStoreOrRecordOnly()
    this.#mutable()
    const metadata = this.#ensureMetadata()
    metadata.userId = String(userId)
    metadata.taggedAt = Date.now()
    this.#metadataChanged = true
    this.#values().markChanged(METADATA_KEY)
    await store?.tag(this.sessionId, String(userId))
    this.#taggedSessionId = this.sessionId
  }

  /**
   * Link this session to a user when it is committed, with no store call now;
   * `null` removes the link. A regenerated session keeps it. The integration
   * with @adonisjs/auth (`auth.tagSessions`) calls it from auth's events, which
   * cannot be awaited.
   */
  tagOnCommit(userId: string | number | null): void {
    this.#assertNotSkipped('tag the session')
    this.#taggingStoreOrRecordOnly()
    this.#mutable()
    if (userId === null) {
      if (this.#metadata?.userId === undefined) {
        return
      }
      delete this.#metadata.userId
    } else {
      const metadata = this.#ensureMetadata()
      metadata.userId = String(userId)
      metadata.taggedAt = Date.now()
    }
    this.#pendingTag = userId === null ? null : String(userId)
    this.#metadataChanged = true
    this.#values().markChanged(METADATA_KEY)
  }

  /**
   * The tagging store, or undefined when the store cannot tag but
   * `cookieRevocation` asks for the user to be recorded in the metadata only.
   */
  #taggingStoreOrRecordOnly(): SessionStoreWithTaggingContract | undefined {
    if (!this.supportsTagging() && this.config.cookieRevocation) {
      return undefined
    }
    return this.#taggingStore()
  }

  /**
   * Remove the user link of this session (call it on logout). Given a user id,
   * only a link to that user is removed.
   */
  async untag(userId?: string | number): Promise<void> {
    this.#assertNotSkipped('untag the session')
    const store = this.#taggingStoreOrRecordOnly()
    this.#mutable()
    const metadata = this.#metadata
    const linkedTo = metadata?.userId
    if (userId !== undefined && linkedTo !== undefined && linkedTo !== String(userId)) {
      return
    }
    if (metadata && linkedTo) {
      delete metadata.userId
      this.#metadataChanged = true
      this.#values().markChanged(METADATA_KEY)
    }
    if (store?.untag) {
      await store.untag(this.sessionId)
    }
  }

  /**
   * The metadata, created on first use. Stores that cannot list sessions keep
   * only the times (for maxLifetime), not the IP address and user agent.
   */
  #ensureMetadata(): SessionMetadata {
    if (!this.#metadata) {
      const now = Date.now()
      this.#metadata = { createdAt: now, lastSeenAt: now }
      if (this.supportsTagging()) {
        this.#metadata.ipAddress = this.#ctx.request.ip()
        this.#metadata.userAgent = this.#ctx.request.header('user-agent')
      }
      this.#metadataChanged = true
    }
    return this.#metadata
  }

  /** Refresh `lastSeenAt` when it is stale; true when the metadata changed. */
  #refreshMetadata(): boolean {
    const metadata = this.#ensureMetadata()
    const now = Date.now()
    if (now - metadata.lastSeenAt >= LAST_SEEN_RESOLUTION_MS) {
      metadata.lastSeenAt = now
      this.#metadataChanged = true
    }
    return this.#metadataChanged
  }

  /** Move this request's flash messages into the values, under the flash key. */
  #stageFlashMessages(values: ValuesStore) {
    const response = this.#responseFlashMessages
    if (!response || response.isEmpty) {
      return
    }
    const staged = response.all() as Record<string, any>
    const flash: SessionData = { ...staged.reflashed, ...staged.input }
    for (const key of Object.keys(staged)) {
      if (key !== 'input' && key !== 'reflashed') {
        flash[key] = staged[key]
      }
    }
    values.set([this.flashKey], flash)
  }

  /**
   * The data to store: values plus metadata. Built with Object.assign: an
   * object spread followed by a computed key costs about ten times more in V8.
   * Values never hold a "__proto__" key (ValuesStore refuses it, payloads drop
   * it), so assigning them is as safe as spreading.
   */
  #dataToStore(values: ValuesStore): SessionData {
    const data: SessionData = Object.assign({}, values.all())
    data[METADATA_KEY] = this.#metadata as any
    return data
  }

  /**
   * What this request changed, as a merge for stores that support it: top-level
   * values replaced or removed in `set`/`unset`, changes below the top level,
   * increments and appends in `operations`.
   */
  #changes(values: ValuesStore): SessionChanges {
    const all = values.all()
    const changes: SessionChanges = {
      set: {},
      unset: [],
      cleared: values.wasCleared,
      data: this.#dataToStore(values),
    }
    for (const change of values.trackedChanges) {
      const path = change.path
      if (path[0] === METADATA_KEY) continue
      if (change.kind === 'replace' && path.length === 1) {
        const value = all[path[0]]
        if (value === undefined) changes.unset.push(path[0])
        else changes.set[path[0]] = value
        continue
      }
      ;(changes.operations ??= []).push(operationOf(change, all))
    }
    if (this.#metadataChanged || values.wasCleared) {
      changes.set[METADATA_KEY] = this.#metadata as any
    }
    return changes
  }

  /**
   * Persist the session and send its cookie. Called by the middleware after
   * the handler, also when it threw.
   */
  async commit(): Promise<void> {
    if (!this.#initiated || this.#readonly) {
      return
    }
    const values = this.#values()
    this.#stageFlashMessages(values)
    const oldId = this.#fresh ? undefined : this.#idCookie?.id

    const stored = !values.isEmpty || Boolean(this.#metadata?.userId)
    if (!stored) {
      debugSecrets('commit %s: empty, not stored; destroyed: %s', this.#sessionId, oldId)
      await this.#commitEmpty(oldId)
    } else if (this.#regenerated || this.#fresh) {
      debugSecrets('commit %s: full write under a new id (old id %s)', this.sessionId, oldId)
      await this.#commitNewId(values, oldId)
    } else if (values.hasBeenModified) {
      debugSecrets('commit %s: changes written', this.sessionId)
      this.#refreshMetadata()
      await this.#commitChanges(values)
    } else if (this.#refreshMetadata()) {
      debugSecrets('commit %s: metadata refreshed', this.sessionId)
      await this.#commitChanges(values)
    } else {
      this.#writeIdCookie()
      const touch = this.#needsTouch()
      debugSecrets(
        `commit %s: unchanged, ${touch ? 'touch only' : 'no store call'}`,
        this.sessionId
      )
      if (touch) {
        await this.#store.touch(this.sessionId)
      }
    }
    this.#committed = stored
    if (this.#emitter.hasListeners('session:committed')) {
      await this.#emitter.emit('session:committed', { session: this })
    }
  }

  /**
   * True when an unchanged session's expiry in the store should be pushed
   * forward. Its last write (which reset the expiry) was at `lastSeenAt`, so a
   * touch is due only once that lags a minute (half the age when shorter), as
   * for the id cookie: a session read on every request costs no store write.
   * Stores that refresh on read never need it; the cookie store decides itself
   * (its data cookie carries its own expiry and key). A `lastSeenAt` in the
   * future (another server's clock runs ahead) proves nothing: touch.
   */
  #needsTouch(): boolean {
    const store = this.#store as SessionStoreCapabilities
    if (store.touchesOnRead) {
      return false
    }
    const lastSeenAt = this.#metadata?.lastSeenAt
    if (store.keepsDataInCookies || typeof lastSeenAt !== 'number' || lastSeenAt > Date.now()) {
      return true
    }
    const ageMs = this.config.ageInSeconds * 1000
    return isDueForReissue(lastSeenAt + ageMs, ageMs)
  }

  /** An empty session: nothing stored; the old data, if any, is destroyed. */
  async #commitEmpty(oldId: string | undefined) {
    if (oldId) {
      await this.#store.destroy(oldId)
    }
    if (this.config.saveUninitialized && !this.#invalidated) {
      this.#writeIdCookie()
    } else if (this.#idCookie) {
      this.#cookies.clearSessionId(this.#ctx)
    }
  }

  /** A new or regenerated session: full write under the new id, old id destroyed. */
  async #commitNewId(values: ValuesStore, oldId: string | undefined) {
    this.#ensureMetadata()
    if (oldId && oldId !== this.sessionId) {
      await this.#store.destroy(oldId)
    }
    this.#writeIdCookie()
    await this.#store.write(this.sessionId, this.#dataToStore(values))
    await this.#linkTag(oldId !== undefined && oldId !== this.sessionId)
    if (oldId && oldId !== this.sessionId) {
      if (this.#emitter.hasListeners('session:migrated')) {
        await this.#emitter.emit('session:migrated', {
          fromSessionId: oldId,
          toSessionId: this.sessionId,
          session: this,
        })
      }
    }
  }

  /**
   * Link the stored session to its user after a write: the link `tagOnCommit`
   * asked for, or the user of a session that got a new id (regenerate keeps
   * the tag). An unlink asked for removes the store's link.
   */
  async #linkTag(idChanged: boolean) {
    const pending = this.#pendingTag
    this.#pendingTag = undefined
    if (!this.supportsTagging()) {
      return
    }
    const store = this.#store as SessionStoreWithTaggingContract
    if (pending === null) {
      await store.untag?.(this.sessionId)
      return
    }
    const userId = this.#metadata?.userId
    if (
      userId &&
      (pending !== undefined || (idChanged && this.#taggedSessionId !== this.sessionId))
    ) {
      await store.tag(this.sessionId, userId)
      this.#taggedSessionId = this.sessionId
    }
  }

  /** An existing session that changed: merge the changes, or write it whole. */
  async #commitChanges(values: ValuesStore) {
    this.#writeIdCookie((this.#store as SessionStoreCapabilities).keepsDataInCookies === true)
    const store = this.#store as Partial<SessionStoreWithMergeContract>
    if (typeof store.merge === 'function') {
      await store.merge(this.sessionId, this.#changes(values), snapshotOf(this.#storedData))
    } else {
      await this.#store.write(this.sessionId, this.#dataToStore(values))
    }
    await this.#linkTag(false)
  }

  /**
   * Send the id cookie when the id is new or changed, or when the browser's
   * copy needs its expiry pushed forward (at most once a minute); otherwise
   * only keep the response private. `always` sends it in any case (as it came
   * when it needs no refresh).
   */
  #writeIdCookie(always: boolean = false) {
    const cookie = this.#idCookie
    if (cookie && cookie.id === this.#sessionId && !this.#cookies.needsReissue(cookie)) {
      if (always) {
        this.#cookies.append(this.#ctx, this.#cookies.cookieName, cookie.raw)
      } else {
        this.#cookies.markPrivate(this.#ctx)
      }
      return
    }
    this.#cookies.writeSessionId(this.#ctx, this.sessionId)
  }
}

/**
 * Events the session emits on the app emitter.
 */
export interface SessionEvents {
  'session:initiated': { session: Session }
  'session:committed': { session: Session }
  'session:migrated': { fromSessionId: string; toSessionId: string; session: Session }
}
