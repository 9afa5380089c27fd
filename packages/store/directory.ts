/**
 * The source directory: which sources are configured and where they point (ids and endpoints, never
 * credentials). Each provider's sync function writes its own entry from its configuration at every
 * invocation, so the API can list sources without being given the source secrets.
 */
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { Provider } from "../core/resources";
import { itemKeys } from "./keys";
import type { Table } from "./table";

export type SourceDescription =
  | { id: string; provider: "triton"; datacenter: string; url: string; account: string }
  | { id: string; provider: "coxedge"; baseUrl: string; service: string; environment: string; organizationId?: string };

/** Replaces the provider's entry with its configured sources, sorted by id. */
export async function writeSourceDirectory(table: Table, provider: Provider, sources: readonly SourceDescription[]): Promise<void> {
  const item = { ...itemKeys.sourceDirectory(provider), kind: "directory", provider, sources: sources.toSorted((a, b) => a.id.localeCompare(b.id)) };
  await table.client.send(new PutCommand({ TableName: table.name, Item: item }));
}

/** Every configured source of every provider whose sync function has run at least once. */
export async function readSourceDirectory(table: Table, providers: readonly Provider[]): Promise<SourceDescription[]> {
  const entries = await Promise.all(
    providers.map((provider) => table.client.send(new GetCommand({ TableName: table.name, Key: itemKeys.sourceDirectory(provider) }))),
  );
  return entries.flatMap(({ Item }) => (Item?.sources as SourceDescription[] | undefined) ?? []).toSorted((a, b) => a.id.localeCompare(b.id));
}
