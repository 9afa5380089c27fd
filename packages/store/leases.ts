/**
 * One sync at a time per source: a lease item taken with a conditional write. A crashed holder never
 * releases it, so it lapses on its own at `leaseUntil`; a run must finish (or give up) before then.
 */
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { Provider } from "../core/resources";
import { sourcePartitionKey } from "./runs";
import type { Table } from "./table";

export interface Lease {
  provider: Provider;
  sourceId: string;
  runId: string;
  acquiredAt: string;
  /** Epoch ms after which anyone may take the lease over. */
  leaseUntil: number;
}

const leaseKey = (sourceId: string) => ({ pk: sourcePartitionKey(sourceId), sk: "LEASE" });

/** Takes the source's lease for `seconds`; when someone else holds it, returns their lease (if still there). */
export async function acquireLease(
  table: Table,
  request: { provider: Provider; sourceId: string; runId: string; seconds: number },
): Promise<{ acquired: true; lease: Lease } | { acquired: false; holder: Lease | undefined }> {
  const now = Date.now();
  const lease: Lease = {
    provider: request.provider,
    sourceId: request.sourceId,
    runId: request.runId,
    acquiredAt: new Date(now).toISOString(),
    leaseUntil: now + request.seconds * 1000,
  };
  try {
    await table.client.send(
      new PutCommand({
        TableName: table.name,
        Item: { ...leaseKey(request.sourceId), kind: "lease", ...lease },
        ConditionExpression: "attribute_not_exists(#pk) OR #leaseUntil < :now",
        ExpressionAttributeNames: { "#pk": "pk", "#leaseUntil": "leaseUntil" },
        ExpressionAttributeValues: { ":now": now },
      }),
    );
    return { acquired: true, lease };
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const { Item } = await table.client.send(new GetCommand({ TableName: table.name, Key: leaseKey(request.sourceId) }));
    return { acquired: false, holder: Item as Lease | undefined };
  }
}

/** Gives the lease back; false when it was no longer ours (it lapsed and someone else took it). */
export async function releaseLease(table: Table, lease: Pick<Lease, "sourceId" | "runId">): Promise<boolean> {
  try {
    await table.client.send(
      new DeleteCommand({
        TableName: table.name,
        Key: leaseKey(lease.sourceId),
        ConditionExpression: "#runId = :runId",
        ExpressionAttributeNames: { "#runId": "runId" },
        ExpressionAttributeValues: { ":runId": lease.runId },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}
