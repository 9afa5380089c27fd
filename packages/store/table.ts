/** Which table the store functions work on, and through which client. */
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { documentClient } from "../core/aws";
import { ConfigLoader } from "../core/config";

export interface Table {
  client: DynamoDBDocumentClient;
  name: string;
}

/** The configured table (IMAGESYNC_TABLE_NAME or the linked Inventory table) through the shared client. */
export function configuredTable(config: ConfigLoader = new ConfigLoader()): Table {
  return { client: documentClient(), name: config.tableName() };
}

/** The TTL attribute's value (`expiresAt`, epoch seconds) for an item that expires `days` after `isoTime`. */
export function expiresAfterDays(isoTime: string, days: number): number {
  return Math.floor(Date.parse(isoTime) / 1000) + days * 86_400;
}
