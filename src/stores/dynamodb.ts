import { setTimeout as sleep } from 'node:timers/promises'
import {
  BatchGetItemCommand,
  DeleteItemCommand,
  GetItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
  type AttributeValue,
  type BatchGetItemCommandOutput,
  type DynamoDBClient,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb'
import { debugSecrets } from '../debug.js'
import {
  applyChanges,
  attachSnapshot,
  decodePayload,
  encodePayload,
  mergedData,
} from '../payload.js'
import type {
  SessionChanges,
  SessionData,
  SessionStoreWithMergeContract,
  SessionStoreWithTaggingContract,
  TaggedSession,
} from '../types.js'

/**
 * Options of the DynamoDB store (see `stores.dynamodb()`).
 */
export interface DynamoDBStoreOptions {
  /** The table; `Session` by default. */
  tableName?: string
  /** The string partition key of the table; `key` by default. */
  keyAttribute?: string
  /**
   * A global secondary index whose partition key is `user_id` (S), any
   * projection. Without it, `tagged()` scans the whole table.
   */
  userIndexName?: string
  /** The store created the client (from `clientConfig`), so `close()` destroys it. */
  ownsClient?: boolean
}

/**
 * The attribute that holds epoch seconds for DynamoDB's own TTL (`expires_at`
 * holds milliseconds, as @adonisjs/session writes it, which TTL cannot use).
 */
const TTL_ATTRIBUTE = 'expires_at_ttl'

/**
 * How many times a merge re-reads and retries when other requests keep
 * writing the same session in between.
 */
const MAX_MERGE_ATTEMPTS = 50

/**
 * Placeholders for attribute names (`key` and `value` are DynamoDB reserved
 * words); `#key` is the configured key attribute.
 */
const ATTRIBUTES = {
  '#value': 'value',
  '#expires': 'expires_at',
  '#ttl': TTL_ATTRIBUTE,
  '#user': 'user_id',
}

type Placeholder = keyof typeof ATTRIBUTES | '#key'

type Item = Record<string, AttributeValue>

/**
 * A merge waiting for its batch to be written.
 */
interface PendingMerge {
  changes: SessionChanges
  snapshot: unknown
  resolve(): void
  reject(error: unknown): void
}

/**
 * True for the error DynamoDB returns when a ConditionExpression is false.
 */
function isConditionFailure(error: unknown): boolean {
  return (error as { name?: string })?.name === 'ConditionalCheckFailedException'
}

/**
 * Sessions in a DynamoDB table, in the item format of @adonisjs/session
 * (`value` holds the payload, `expires_at` epoch milliseconds) plus
 * `expires_at_ttl` (epoch seconds) for DynamoDB's TTL and `user_id` for
 * tagging. Reads are strongly consistent and ignore items that expired but
 * that DynamoDB has not deleted yet. Merges are conditional writes on the
 * value the request read, retried on conflict.
 */
export class DynamoDBStore
  implements SessionStoreWithTaggingContract, SessionStoreWithMergeContract
{
  #client: DynamoDBClient
  #tableName: string
  #keyAttribute: string
  #userIndexName: string | undefined
  #ageMs: number
  #pendingMerges = new Map<string, PendingMerge[]>()

  #ownsClient: boolean
  #mergeConflicts = 0

  constructor(client: DynamoDBClient, ageInSeconds: number, options: DynamoDBStoreOptions = {}) {
    this.#client = client
    this.#tableName = options.tableName ?? 'Session'
    this.#keyAttribute = options.keyAttribute ?? 'key'
    this.#userIndexName = options.userIndexName
    this.#ageMs = ageInSeconds * 1000
    this.#ownsClient = options.ownsClient ?? false
  }

  /**
   * How many compare-and-swaps of this store found the session changed by
   * someone else since it was read, and were tried again.
   */
  get mergeConflicts(): number {
    return this.#mergeConflicts
  }

  /** Destroy the client when the store created it; a client the app passed is left alone. */
  close(): void {
    if (this.#ownsClient) {
      this.#client.destroy()
    }
  }

  #key(sessionId: string): Item {
    return { [this.#keyAttribute]: { S: sessionId } }
  }

  /** ExpressionAttributeNames for exactly the placeholders an expression uses. */
  #names(...placeholders: Placeholder[]): Record<string, string> {
    const names: Record<string, string> = {}
    for (const placeholder of placeholders) {
      names[placeholder] = placeholder === '#key' ? this.#keyAttribute : ATTRIBUTES[placeholder]
    }
    return names
  }

  /** Attribute values of an expiry `age` from `now`: milliseconds and TTL seconds. */
  #expiryValues(now: number): Item {
    const expiresAt = now + this.#ageMs
    return {
      ':expires': { N: String(expiresAt) },
      ':ttl': { N: String(Math.ceil(expiresAt / 1000)) },
    }
  }

  /** The payload of an item that has not expired, or null. */
  #liveValue(item: Item | undefined, now: number): string | null {
    const value = item?.value?.S
    const expiresAt = Number(item?.expires_at?.N)
    return value !== undefined && expiresAt > now ? value : null
  }

  /** The live payload of a session, strongly consistent. */
  async #readValue(sessionId: string): Promise<string | null> {
    const { Item } = await this.#client.send(
      new GetItemCommand({
        TableName: this.#tableName,
        Key: this.#key(sessionId),
        ConsistentRead: true,
        ProjectionExpression: '#value, #expires',
        ExpressionAttributeNames: this.#names('#value', '#expires'),
      })
    )
    return this.#liveValue(Item, Date.now())
  }

  /** An UpdateItem with a condition; false when the condition did not hold (no error). */
  async #updateIfConditionHolds(input: UpdateItemCommandInput): Promise<boolean> {
    try {
      await this.#client.send(new UpdateItemCommand(input))
      return true
    } catch (error) {
      if (isConditionFailure(error)) {
        return false
      }
      throw error
    }
  }

  /** Read a live session; undecodable items read as null and are deleted. */
  async read(sessionId: string): Promise<SessionData | null> {
    const value = await this.#readValue(sessionId)
    if (value === null) {
      return null
    }
    const data = decodePayload(sessionId, value)
    if (!data) {
      debugSecrets('dynamodb store: deleting the undecodable item of session %s', sessionId)
      await this.destroy(sessionId)
      return null
    }
    return attachSnapshot(data, value)
  }

  /** Write a session's data and reset its expiry; the user link is kept. */
  async write(sessionId: string, data: SessionData): Promise<void> {
    await this.#client.send(
      new UpdateItemCommand({
        TableName: this.#tableName,
        Key: this.#key(sessionId),
        UpdateExpression: 'SET #value = :value, #expires = :expires, #ttl = :ttl',
        ExpressionAttributeNames: this.#names('#value', '#expires', '#ttl'),
        ExpressionAttributeValues: {
          ':value': { S: encodePayload(sessionId, data) },
          ...this.#expiryValues(Date.now()),
        },
      })
    )
  }

  /**
   * Apply one request's changes atomically: a write on condition that the
   * item still holds the value read before (`snapshot`) and is live; when
   * another request wrote in between, re-read and retry after a short random
   * pause. Merges of one session within this process are written one batch
   * at a time: those that arrive during a write go together in the next one.
   * A destroyed or expired session stays gone.
   */
  merge(sessionId: string, changes: SessionChanges, snapshot?: unknown): Promise<void> {
    return new Promise((resolve, reject) => {
      const merge: PendingMerge = { changes, snapshot, resolve, reject }
      const waiting = this.#pendingMerges.get(sessionId)
      if (waiting) {
        waiting.push(merge)
        return
      }
      this.#pendingMerges.set(sessionId, [merge])
      void this.#writePendingMerges(sessionId)
    })
  }

  /** Write the waiting merges of a session, batch after batch, until none is left. */
  async #writePendingMerges(sessionId: string) {
    const waiting = this.#pendingMerges.get(sessionId)!
    let stored: string | null | undefined
    while (waiting.length) {
      const batch = waiting.splice(0)
      try {
        stored = await this.#writeMerged(sessionId, batch, stored)
        batch.forEach((merge) => merge.resolve())
      } catch (error) {
        stored = undefined
        batch.forEach((merge) => merge.reject(error))
      }
    }
    this.#pendingMerges.delete(sessionId)
  }

  /**
   * Conditionally write the changes of a batch on top of the stored value,
   * guessed from what this process wrote last or what the requests read.
   * Returns the value written, or null when the session is gone.
   */
  async #writeMerged(
    sessionId: string,
    batch: PendingMerge[],
    stored: string | null | undefined
  ): Promise<string | null> {
    const snapshot = batch.findLast((merge) => typeof merge.snapshot === 'string')?.snapshot
    let current = stored ?? (snapshot as string | undefined) ?? (await this.#readValue(sessionId))
    for (let attempt = 1; current !== null; attempt++) {
      const data = mergedBatch(sessionId, current, batch)
      if (!data) {
        return null
      }
      const next = encodePayload(sessionId, data)
      const now = Date.now()
      const written = await this.#updateIfConditionHolds({
        TableName: this.#tableName,
        Key: this.#key(sessionId),
        UpdateExpression: 'SET #value = :value, #expires = :expires, #ttl = :ttl',
        ConditionExpression: '#value = :read AND #expires > :now',
        ExpressionAttributeNames: this.#names('#value', '#expires', '#ttl'),
        ExpressionAttributeValues: {
          ':value': { S: next },
          ':read': { S: current },
          ':now': { N: String(now) },
          ...this.#expiryValues(now),
        },
      })
      if (written) {
        return next
      }
      this.#mergeConflicts++
      if (attempt >= MAX_MERGE_ATTEMPTS) {
        throw new Error(
          `${MAX_MERGE_ATTEMPTS} merges in a row met a newer write of the same session from another process; too many parallel requests change this session`
        )
      }
      await sleep(Math.random() * Math.min(100, 2 ** attempt))
      current = await this.#readValue(sessionId)
    }
    return null
  }

  /** Delete a session's item. */
  async destroy(sessionId: string): Promise<void> {
    await this.#client.send(
      new DeleteItemCommand({ TableName: this.#tableName, Key: this.#key(sessionId) })
    )
  }

  /** Extend the expiry of a live item; a missing or expired one is left alone. */
  async touch(sessionId: string): Promise<void> {
    const now = Date.now()
    await this.#updateIfConditionHolds({
      TableName: this.#tableName,
      Key: this.#key(sessionId),
      UpdateExpression: 'SET #expires = :expires, #ttl = :ttl',
      ConditionExpression: '#expires > :now',
      ExpressionAttributeNames: this.#names('#expires', '#ttl'),
      ExpressionAttributeValues: { ':now': { N: String(now) }, ...this.#expiryValues(now) },
    })
  }

  /**
   * Link a session to a user (`user_id`). A session without an item yet gets
   * one with empty data; an existing item keeps its value and expiry.
   */
  async tag(sessionId: string, userId: string | number): Promise<void> {
    await this.#client.send(
      new UpdateItemCommand({
        TableName: this.#tableName,
        Key: this.#key(sessionId),
        UpdateExpression:
          'SET #user = :user, #value = if_not_exists(#value, :empty), #expires = if_not_exists(#expires, :expires), #ttl = if_not_exists(#ttl, :ttl)',
        ExpressionAttributeNames: this.#names('#user', '#value', '#expires', '#ttl'),
        ExpressionAttributeValues: {
          ':user': { S: String(userId) },
          ':empty': { S: encodePayload(sessionId, {}) },
          ...this.#expiryValues(Date.now()),
        },
      })
    )
  }

  /** Remove the user link of a session (never creates an item). */
  async untag(sessionId: string): Promise<void> {
    await this.#updateIfConditionHolds({
      TableName: this.#tableName,
      Key: this.#key(sessionId),
      UpdateExpression: 'REMOVE #user',
      ConditionExpression: 'attribute_exists(#user)',
      ExpressionAttributeNames: this.#names('#user'),
    })
  }

  /**
   * The live sessions of a user. With `userIndexName`, a Query on the index
   * then strongly consistent reads of the items found; without it, a Scan of
   * the whole table (every item is read and billed).
   */
  async tagged(userId: string | number): Promise<TaggedSession[]> {
    const user = String(userId)
    const items = this.#userIndexName
      ? await this.#getItems(await this.#queryUserIndex(user))
      : await this.#scan({
          FilterExpression: '#user = :user',
          ExpressionAttributeNames: this.#names('#key', '#value', '#expires', '#user'),
          ExpressionAttributeValues: { ':user': { S: user } },
          ProjectionExpression: '#key, #value, #expires, #user',
          ConsistentRead: true,
        })
    const now = Date.now()
    const sessions: TaggedSession[] = []
    for (const item of items) {
      const sessionId = item[this.#keyAttribute]?.S
      const value = this.#liveValue(item, now)
      const data = sessionId && value !== null ? decodePayload(sessionId, value) : null
      if (sessionId && data && item.user_id?.S === user) {
        sessions.push({ id: sessionId, data })
      }
    }
    return sessions
  }

  /** The session ids the user index lists for a user (it may lag behind the table). */
  async #queryUserIndex(user: string): Promise<string[]> {
    const ids: string[] = []
    let startKey: Item | undefined
    do {
      const page = await this.#client.send(
        new QueryCommand({
          TableName: this.#tableName,
          IndexName: this.#userIndexName,
          KeyConditionExpression: '#user = :user',
          ExpressionAttributeNames: this.#names('#user'),
          ExpressionAttributeValues: { ':user': { S: user } },
          ExclusiveStartKey: startKey,
        })
      )
      for (const item of page.Items ?? []) {
        const id = item[this.#keyAttribute]?.S
        if (id) ids.push(id)
      }
      startKey = page.LastEvaluatedKey
    } while (startKey)
    return ids
  }

  /** Strongly consistent reads of many items, 100 per request, retrying unprocessed keys. */
  async #getItems(sessionIds: string[]): Promise<Item[]> {
    const items: Item[] = []
    for (let start = 0; start < sessionIds.length; start += 100) {
      let keys: Item[] | undefined = sessionIds.slice(start, start + 100).map((id) => this.#key(id))
      for (let attempt = 0; keys?.length; attempt++) {
        if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt))
        const response: BatchGetItemCommandOutput = await this.#client.send(
          new BatchGetItemCommand({
            RequestItems: {
              [this.#tableName]: {
                Keys: keys,
                ConsistentRead: true,
                ProjectionExpression: '#key, #value, #expires, #user',
                ExpressionAttributeNames: this.#names('#key', '#value', '#expires', '#user'),
              },
            },
          })
        )
        items.push(...(response.Responses?.[this.#tableName] ?? []))
        keys = response.UnprocessedKeys?.[this.#tableName]?.Keys
      }
    }
    return items
  }

  /** Every item a filtered Scan returns, page after page. */
  async #scan(input: {
    FilterExpression: string
    ExpressionAttributeNames: Record<string, string>
    ExpressionAttributeValues: Item
    ProjectionExpression: string
    ConsistentRead: boolean
  }): Promise<Item[]> {
    const items: Item[] = []
    let startKey: Item | undefined
    do {
      const page = await this.#client.send(
        new ScanCommand({
          TableName: this.#tableName,
          ...input,
          ExclusiveStartKey: startKey,
        })
      )
      items.push(...(page.Items ?? []))
      startKey = page.LastEvaluatedKey
    } while (startKey)
    return items
  }

  /**
   * Delete every expired item (a Scan, then one conditional delete per
   * expired item, so a session touched meanwhile is kept). Returns how many
   * were deleted. With DynamoDB TTL on `expires_at_ttl`, this is optional.
   */
  async prune(): Promise<number> {
    const now = Date.now()
    const expired = await this.#scan({
      FilterExpression: '#expires <= :now',
      ExpressionAttributeNames: this.#names('#key', '#expires'),
      ExpressionAttributeValues: { ':now': { N: String(now) } },
      ProjectionExpression: '#key',
      ConsistentRead: false,
    })
    let deleted = 0
    for (let start = 0; start < expired.length; start += 25) {
      const results = await Promise.all(
        expired.slice(start, start + 25).map((item) => this.#deleteIfExpired(item, now))
      )
      deleted += results.filter(Boolean).length
    }
    return deleted
  }

  async #deleteIfExpired(item: Item, now: number): Promise<boolean> {
    try {
      await this.#client.send(
        new DeleteItemCommand({
          TableName: this.#tableName,
          Key: { [this.#keyAttribute]: item[this.#keyAttribute] },
          ConditionExpression: '#expires <= :now',
          ExpressionAttributeNames: this.#names('#expires'),
          ExpressionAttributeValues: { ':now': { N: String(now) } },
        })
      )
      return true
    } catch (error) {
      if (isConditionFailure(error)) {
        return false
      }
      throw error
    }
  }
}

/**
 * The data a batch of merges stores on top of `raw`: a single merge based on
 * `raw` stores its request's data as is; otherwise each change applies in turn.
 */
function mergedBatch(sessionId: string, raw: string, batch: PendingMerge[]): SessionData | null {
  if (batch.length === 1) {
    return mergedData(sessionId, raw, batch[0].snapshot, batch[0].changes)
  }
  const current = decodePayload(sessionId, raw)
  return current && batch.reduce((merged, merge) => applyChanges(merged, merge.changes), current)
}
