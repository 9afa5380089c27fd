/**
 * An SQS-compatible server in-process: `local-aws-sqs`, chosen over fauxqs because it can bind 127.0.0.1
 * (fauxqs hard-codes 0.0.0.0), speaks both SQS protocols and implements redrive and message-move tasks.
 * Its quirks (see README): ChangeMessageVisibility counts as a receive, so nothing here uses it; in-flight
 * messages are also reported as visible by GetQueueAttributes; PurgeQueue takes effect after 60 s.
 */
import type { AddressInfo } from "node:net";
import { createSqsServer } from "local-aws-sqs";

export interface SqsLocal {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

export async function startSqsLocal(options: { port?: number; region?: string } = {}): Promise<SqsLocal> {
  const server = await createSqsServer({
    port: options.port ?? 0,
    hostname: "127.0.0.1",
    region: options.region ?? "us-east-1",
    emulateQueueCreationLifecycle: false,
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    stop: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
