import { createRequire } from 'node:module'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  CreateTableCommand,
  DynamoDBClient,
  type CreateTableCommandInput,
  type DynamoDBClientConfig,
} from '@aws-sdk/client-dynamodb'

const require = createRequire(import.meta.url)
const dynalite = require('dynalite') as (options: { createTableMs?: number }) => Server

/**
 * An in-process DynamoDB (dynalite, in memory) on a loopback port.
 */
export interface LocalDynamoDB {
  endpoint: string
  /** The client config to reach it: dummy credentials, no retries. */
  clientConfig: DynamoDBClientConfig
  /** A client of this DynamoDB. */
  client: DynamoDBClient
  /** Stop the server and the client. */
  close(): Promise<void>
}

/**
 * The config of a client that reaches `endpoint` with dummy credentials and
 * makes one attempt per call.
 */
export function localClientConfig(endpoint: string): DynamoDBClientConfig {
  return {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  }
}

/**
 * Start dynalite on a free loopback port, with tables ready as soon as they are created.
 */
export async function startDynamoDB(): Promise<LocalDynamoDB> {
  const server = dynalite({ createTableMs: 0 })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const endpoint = `http://127.0.0.1:${port}`
  const clientConfig = localClientConfig(endpoint)
  const client = new DynamoDBClient(clientConfig)
  return {
    endpoint,
    clientConfig,
    client,
    async close() {
      client.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve()))
      )
    },
  }
}

/**
 * Create a session table: a string partition key named `keyAttribute`, and,
 * with `userIndexName`, a global secondary index on `user_id` that keeps keys only.
 */
export async function createSessionTable(
  client: DynamoDBClient,
  tableName: string,
  options: { keyAttribute?: string; userIndexName?: string } = {}
): Promise<void> {
  const keyAttribute = options.keyAttribute ?? 'key'
  const input: CreateTableCommandInput = {
    TableName: tableName,
    AttributeDefinitions: [{ AttributeName: keyAttribute, AttributeType: 'S' }],
    KeySchema: [{ AttributeName: keyAttribute, KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
  }
  if (options.userIndexName) {
    input.AttributeDefinitions!.push({ AttributeName: 'user_id', AttributeType: 'S' })
    input.GlobalSecondaryIndexes = [
      {
        IndexName: options.userIndexName,
        KeySchema: [{ AttributeName: 'user_id', KeyType: 'HASH' }],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
    ]
  }
  await client.send(new CreateTableCommand(input))
}
