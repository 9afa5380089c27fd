/**
 * Feeds a DynamoDB table's stream to a Lambda handler the way Lambda's event source mapping does: polls
 * every shard (parents before their children), invokes with batches in sequence order, and on reported
 * batch item failures (or a thrown error) retries from the first failed record; after `maxRetryAttempts`
 * the failed record is logged (AWS would send it to the on-failure destination) and processing moves on.
 * Checkpoints are kept in a file when one is given, so a restart resumes where it stopped (or delivers a
 * few records again, which the handler absorbs).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { DescribeTableCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
  type Shard,
} from "@aws-sdk/client-dynamodb-streams";
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { invoke, type FunctionSettings, type LambdaHandler } from "./lambda";

export type StreamHandler = LambdaHandler<DynamoDBStreamEvent, DynamoDBBatchResponse | void>;

export interface StreamPollerOptions {
  dynamo: DynamoDBClient;
  tableName: string;
  handler: StreamHandler;
  settings: FunctionSettings;
  batchSize: number;
  maxRetryAttempts: number;
  /** Where shard checkpoints are kept between runs; none: every start reads the stream from its beginning. */
  checkpointFile?: string;
  /** Idle wait between polls. Default 250 ms. */
  pollIntervalMs?: number;
  onBatch?: (summary: { records: number; failed: boolean; gaveUp?: string; error?: unknown }) => void;
}

export interface StreamPoller {
  /** Resolves once every record written so far has been handed to the handler (for tests). */
  drained(): Promise<void>;
  stop(): Promise<void>;
}

export async function startStreamPoller(options: StreamPollerOptions): Promise<StreamPoller> {
  const { Table } = await options.dynamo.send(new DescribeTableCommand({ TableName: options.tableName }));
  const streamArn = Table?.LatestStreamArn;
  if (!streamArn) throw new Error(`table ${options.tableName} has no stream`);
  const region = await options.dynamo.config.region();
  const poll: Poll = {
    options,
    streams: new DynamoDBStreamsClient({ region, endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB }),
    streamArn,
    region,
    checkpoints: readCheckpoints(options.checkpointFile),
    finished: new Set(),
    state: { stopped: false, pass: 0, idlePass: -1 },
  };
  const running = pollUntilStopped(poll);
  return {
    async drained() {
      // A pass that started after this call and found nothing: everything written before it was delivered.
      const after = poll.state.pass;
      while (poll.state.idlePass <= after && !poll.state.stopped) await new Promise((resolve) => setTimeout(resolve, 50));
    },
    async stop() {
      poll.state.stopped = true;
      await running;
      poll.streams.destroy();
    },
  };
}

interface Poll {
  options: StreamPollerOptions;
  streams: DynamoDBStreamsClient;
  streamArn: string;
  region: string;
  /** The last delivered sequence number per shard. */
  checkpoints: Record<string, string | undefined>;
  /** Closed shards read to their end. */
  finished: Set<string>;
  /** `pass` counts polling passes over every shard; `idlePass` is the last one that found nothing new. */
  state: { stopped: boolean; pass: number; idlePass: number };
}

async function pollUntilStopped(poll: Poll): Promise<void> {
  while (!poll.state.stopped) {
    const pass = ++poll.state.pass;
    let delivered = 0;
    try {
      const { StreamDescription } = await poll.streams.send(new DescribeStreamCommand({ StreamArn: poll.streamArn }));
      for (const shard of readyShards(StreamDescription?.Shards ?? [], poll.finished)) delivered += await pollShard(poll, shard);
      if (delivered === 0) poll.state.idlePass = pass;
    } catch (error) {
      if (!poll.state.stopped) poll.options.onBatch?.({ records: 0, failed: true, error });
    }
    if (delivered === 0) await new Promise((resolve) => setTimeout(resolve, poll.options.pollIntervalMs ?? 250));
  }
}

/** Delivers what the shard has after its checkpoint; returns how many records. */
async function pollShard(poll: Poll, shard: Shard): Promise<number> {
  const shardId = shard.ShardId as string;
  let iterator = await shardIterator(poll.streams, poll.streamArn, shardId, poll.checkpoints[shardId]);
  let delivered = 0;
  while (iterator && !poll.state.stopped) {
    const page = await poll.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: poll.options.batchSize }));
    const records = page.Records ?? [];
    if (records.length === 0) return delivered;
    await deliver(poll, records.map((record) => toLambdaRecord(record, poll.streamArn, poll.region)));
    delivered += records.length;
    poll.checkpoints[shardId] = records.at(-1)?.dynamodb?.SequenceNumber;
    writeCheckpoints(poll.options.checkpointFile, poll.checkpoints);
    iterator = page.NextShardIterator;
  }
  if (!iterator) poll.finished.add(shardId);
  return delivered;
}

/** One batch, retried from its first failed record until it succeeds or the attempts run out. */
async function deliver(poll: Poll, records: DynamoDBRecord[]): Promise<void> {
  const { options } = poll;
  let pending = records;
  for (let attempt = 0; pending.length > 0; attempt++) {
    const failedAt = await invokeBatch(options, pending);
    if (failedAt === undefined) return;
    if (attempt + 1 >= options.maxRetryAttempts) {
      options.onBatch?.({ records: pending.length, failed: true, gaveUp: pending[failedAt]?.dynamodb?.SequenceNumber });
      pending = pending.slice(failedAt + 1);
      attempt = -1;
    } else {
      pending = pending.slice(failedAt);
      await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
    }
  }
}

/** The position of the first failed record (Lambda retries from there), or undefined when all succeeded. */
async function invokeBatch(options: StreamPollerOptions, batch: DynamoDBRecord[]): Promise<number | undefined> {
  try {
    const response = await invoke(options.handler, { Records: batch }, options.settings);
    const failed = new Set((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
    options.onBatch?.({ records: batch.length, failed: failed.size > 0 });
    if (failed.size === 0) return undefined;
    // An identifier that is none of the batch's sequence numbers fails the whole batch, as on Lambda.
    return Math.max(0, batch.findIndex((record) => failed.has(record.dynamodb?.SequenceNumber ?? "")));
  } catch (error) {
    options.onBatch?.({ records: batch.length, failed: true, error });
    return 0;
  }
}

/** Shards not yet finished whose parent (if any) is finished or gone: children wait for their parents. */
function readyShards(shards: Shard[], finished: ReadonlySet<string>): Shard[] {
  const known = new Set(shards.map((shard) => shard.ShardId));
  return shards.filter((shard) => !finished.has(shard.ShardId as string) && (!shard.ParentShardId || !known.has(shard.ParentShardId) || finished.has(shard.ParentShardId)));
}

async function shardIterator(streams: DynamoDBStreamsClient, streamArn: string, shardId: string, after: string | undefined): Promise<string | undefined> {
  const { ShardIterator } = await streams.send(
    new GetShardIteratorCommand({
      StreamArn: streamArn,
      ShardId: shardId,
      ...(after ? { ShardIteratorType: "AFTER_SEQUENCE_NUMBER", SequenceNumber: after } : { ShardIteratorType: "TRIM_HORIZON" }),
    }),
  );
  return ShardIterator;
}

type StreamAttribute = NonNullable<NonNullable<StreamRecord["dynamodb"]>["NewImage"]>[string];

/**
 * DynamoDB Local 3.3.1's Streams API sends an empty map as `{}` where DynamoDB (and so Lambda) sends
 * `{"M":{}}`; `{}` is no attribute value at all, so it can only be that. Repaired at every depth.
 */
export function repairEmptyMaps(image: Record<string, StreamAttribute> | undefined): Record<string, StreamAttribute> | undefined {
  if (!image) return image;
  const repair = (value: StreamAttribute): StreamAttribute => {
    if (Object.keys(value).length === 0) return { M: {} };
    if (value.M) return { M: repairEmptyMaps(value.M) as Record<string, StreamAttribute> };
    if (value.L) return { L: value.L.map(repair) };
    return value;
  };
  return Object.fromEntries(Object.entries(image).map(([name, value]) => [name, repair(value)]));
}

/** The record as Lambda delivers it: the SDK's stream record plus the event source fields. */
function toLambdaRecord(record: StreamRecord, streamArn: string, region: string): DynamoDBRecord {
  const { ApproximateCreationDateTime, NewImage, OldImage, ...rest } = record.dynamodb ?? {};
  const images = { ...rest, NewImage: repairEmptyMaps(NewImage), OldImage: repairEmptyMaps(OldImage) };
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion ?? "1.1",
    eventSource: "aws:dynamodb",
    awsRegion: region,
    eventSourceARN: streamArn,
    dynamodb: {
      ...(images as NonNullable<DynamoDBRecord["dynamodb"]>),
      ...(ApproximateCreationDateTime ? { ApproximateCreationDateTime: ApproximateCreationDateTime.getTime() / 1000 } : {}),
    },
  };
}

function readCheckpoints(file: string | undefined): Record<string, string | undefined> {
  if (!file || !existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Record<string, string>;
  } catch {
    return {};
  }
}

function writeCheckpoints(file: string | undefined, checkpoints: Record<string, string | undefined>): void {
  if (file) writeFileSync(file, JSON.stringify(checkpoints), { mode: 0o600 });
}
