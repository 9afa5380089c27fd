/**
 * The local runtime's event-source adapters, against the real SQS server: events must be what Lambda
 * delivers (checked with Powertools' schemas of the real AWS events) and failures must behave as on AWS.
 */
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { APIGatewayProxyEventV2Schema, SqsSchema } from "@aws-lambda-powertools/parser/schemas";
import type { APIGatewayProxyEventV2, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sqsClient } from "../../packages/core/aws";
import { apiRoutes } from "../../packages/core/resources";
import { startHttpAdapter, type HttpAdapter } from "../../packages/local/adapters/http";
import { startSqsPoller } from "../../packages/local/adapters/sqs";
import { rateToMs, startSchedule } from "../../packages/local/adapters/schedule";
import { createTestQueues } from "../support/stack";

const settings = { functionName: "test", timeoutSeconds: 2 };

async function until<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("HTTP adapter (API Gateway HTTP API, payload 2.0)", () => {
  let adapter: HttpAdapter;
  const events: APIGatewayProxyEventV2[] = [];
  let respond: (event: APIGatewayProxyEventV2) => Promise<unknown> = async () => ({ statusCode: 204 });

  beforeAll(async () => {
    adapter = await startHttpAdapter({
      routes: apiRoutes,
      settings,
      handler: async (event) => {
        events.push(event);
        return (await respond(event)) as object;
      },
    });
  });
  afterAll(() => adapter.close());

  it("delivers a valid v2 event with the matched route, greedy path parameter, query and cookies", async () => {
    respond = async () => ({ statusCode: 201, headers: { "x-test": "yes" }, cookies: ["a=1"], body: '{"ok":true}' });
    const response = await fetch(`${adapter.url}/images/coxedge/a8050b2b/ubuntu/v2020%2B1?state=all&tag=a&tag=b`, {
      headers: { "X-Custom": "Value", cookie: "session=abc; theme=dark" },
    });
    expect(response.status).toBe(201);
    expect(response.headers.get("x-test")).toBe("yes");
    expect(response.headers.get("set-cookie")).toBe("a=1");
    expect(await response.json()).toEqual({ ok: true });

    const event = events.at(-1) as APIGatewayProxyEventV2;
    expect(APIGatewayProxyEventV2Schema.safeParse(event).success).toBe(true);
    expect(event.routeKey).toBe("GET /images/{provider}/{id+}");
    expect(event.requestContext.routeKey).toBe(event.routeKey);
    expect(event.pathParameters).toEqual({ provider: "coxedge", id: "a8050b2b/ubuntu/v2020+1" });
    expect(event.rawPath).toBe("/images/coxedge/a8050b2b/ubuntu/v2020%2B1");
    expect(event.rawQueryString).toBe("state=all&tag=a&tag=b");
    expect(event.queryStringParameters).toEqual({ state: "all", tag: "a,b" });
    expect(event.headers["x-custom"]).toBe("Value");
    expect(event.cookies).toEqual(["session=abc", "theme=dark"]);
    expect(event.requestContext.http.method).toBe("GET");
  });

  it("prefers literal routes over parameters and passes JSON bodies as text", async () => {
    respond = async () => ({ accepted: true });
    const response = await fetch(`${adapter.url}/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ a: 1 }),
    });
    // A result without statusCode is a 200 JSON body, as API Gateway does for payload 2.0.
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ accepted: true });
    const event = events.at(-1) as APIGatewayProxyEventV2;
    expect(event.routeKey).toBe("POST /jobs");
    expect(event.pathParameters).toBeUndefined();
    expect(event.isBase64Encoded).toBe(false);
    expect(JSON.parse(event.body as string)).toEqual({ a: 1 });
    expect(APIGatewayProxyEventV2Schema.safeParse(event).success).toBe(true);
  });

  it("base64-encodes binary bodies", async () => {
    respond = async () => ({ statusCode: 202 });
    await fetch(`${adapter.url}/jobs`, { method: "POST", headers: { "content-type": "application/octet-stream" }, body: new Uint8Array([0, 255, 1]) });
    const event = events.at(-1) as APIGatewayProxyEventV2;
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body as string, "base64")).toEqual(Buffer.from([0, 255, 1]));
  });

  it("answers unknown routes and methods with API Gateway's 404 without invoking the function", async () => {
    const before = events.length;
    for (const [method, path] of [["GET", "/nope"], ["DELETE", "/jobs"], ["GET", "/images/triton"]] as const) {
      const response = await fetch(`${adapter.url}${path}`, { method });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ message: "Not Found" });
    }
    expect(events.length).toBe(before);
  });

  it("turns a thrown error or a timeout into a 500", async () => {
    respond = async () => {
      throw new Error("boom");
    };
    expect((await fetch(`${adapter.url}/healthz`)).status).toBe(500);
    respond = () => new Promise((r) => setTimeout(r, 2500));
    const response = await fetch(`${adapter.url}/healthz`);
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ message: "Internal Server Error" });
  });
});

/** Sends raw bytes (so nothing normalises a malformed request) and resolves with the status line and body. */
function rawRequest(url: string, request: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(request));
    let text = "";
    socket.on("data", (chunk) => (text += chunk.toString()));
    socket.on("error", reject);
    socket.on("close", () => resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1] ?? 0), body: text.slice(text.indexOf("\r\n\r\n") + 4) }));
  });
}

describe("HTTP adapter: requests API Gateway refuses", () => {
  let adapter: HttpAdapter;
  let invocations = 0;
  beforeAll(async () => {
    adapter = await startHttpAdapter({ routes: apiRoutes, settings, handler: async () => (invocations++, { statusCode: 204 }) });
  });
  afterAll(() => adapter.close());

  const get = (target: string, headers = "") => rawRequest(adapter.url, `GET ${target} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n${headers}\r\n`);

  it("answers a bad percent-escape or a NUL in the path or query with a 400 problem+json, and keeps serving", async () => {
    for (const [target, where] of [
      ["/images/coxedge/x/%zz", "the path has an invalid percent-escape"],
      ["/images/coxedge/a%00b", "the path contains a NUL character"],
      ["/images?name=%E0%A4%A", "the query string has an invalid percent-escape"],
      ["/images?%00=x", "the query string contains a NUL character"],
    ] as const) {
      const response = await get(target);
      expect(response.status).toBe(400);
      expect(JSON.parse(response.body)).toEqual({ type: "about:blank", title: "Bad Request", status: 400, detail: `Malformed request: ${where}` });
    }
    expect(invocations).toBe(0);
    expect((await get("/healthz")).status).toBe(204);
  });

  it("answers a request line or headers over 10 KiB with a 400 problem+json", async () => {
    for (const response of [await get(`/images?name=${"x".repeat(11 * 1024)}`), await get("/healthz", `x-big: ${"y".repeat(11 * 1024)}\r\n`)]) {
      expect(response.status).toBe(400);
      expect(JSON.parse(response.body)).toMatchObject({ status: 400, detail: "Malformed request: the request line and headers exceed 10240 bytes" });
    }
    expect((await get("/healthz")).status).toBe(204);
  });
});

describe("SQS poller (Lambda event source mapping)", () => {
  it("delivers SQS events, redelivers reported failures and dead-letters after maxReceiveCount", async () => {
    const queues = await createTestQueues({ visibilityTimeoutSeconds: 2, maxReceiveCount: 2 });
    const deliveries: Record<string, number[]> = {};
    const events: SQSEvent[] = [];
    const poller = startSqsPoller({
      sqs: sqsClient(),
      queueUrl: queues.jobQueueUrl,
      queueArn: queues.jobQueueArn,
      settings,
      batchSize: 10,
      concurrency: 1,
      reportBatchItemFailures: true,
      handler: async (event): Promise<SQSBatchResponse> => {
        events.push(event);
        for (const record of event.Records) {
          (deliveries[record.body] ??= []).push(Number(record.attributes.ApproximateReceiveCount));
        }
        return { batchItemFailures: event.Records.filter((r) => r.body === "poison").map((r) => ({ itemIdentifier: r.messageId })) };
      },
    });
    try {
      await sqsClient().send(new SendMessageCommand({ QueueUrl: queues.jobQueueUrl, MessageBody: "good", MessageAttributes: { kind: { DataType: "String", StringValue: "test" } } }));
      await sqsClient().send(new SendMessageCommand({ QueueUrl: queues.jobQueueUrl, MessageBody: "poison" }));

      const deadLetter = await until(async () => {
        const { Messages } = await sqsClient().send(new ReceiveMessageCommand({ QueueUrl: queues.deadLetterQueueUrl, WaitTimeSeconds: 1 }));
        return Messages?.[0];
      });
      expect(deadLetter.Body).toBe("poison");
      expect(deliveries.good).toEqual([1]);
      expect(deliveries.poison).toEqual([1, 2]);
      for (const event of events) expect(SqsSchema.safeParse(event).success).toBe(true);
      expect(events[0]?.Records[0]?.eventSourceARN).toBe(queues.jobQueueArn);
      const good = events.flatMap((e) => e.Records).find((r) => r.body === "good");
      expect(good?.messageAttributes.kind?.stringValue).toBe("test");
    } finally {
      await poller.stop();
      await queues.drop();
    }
  });

  it("keeps the whole batch when the handler throws or reports an unknown id", async () => {
    const queues = await createTestQueues({ visibilityTimeoutSeconds: 2, maxReceiveCount: 5 });
    let calls = 0;
    const poller = startSqsPoller({
      sqs: sqsClient(),
      queueUrl: queues.jobQueueUrl,
      queueArn: queues.jobQueueArn,
      settings,
      concurrency: 1,
      reportBatchItemFailures: true,
      handler: async () => {
        calls += 1;
        if (calls === 1) throw new Error("crash");
        if (calls === 2) return { batchItemFailures: [{ itemIdentifier: "not-in-batch" }] };
        return { batchItemFailures: [] };
      },
    });
    try {
      await sqsClient().send(new SendMessageCommand({ QueueUrl: queues.jobQueueUrl, MessageBody: "m" }));
      await until(() => (calls >= 3 ? true : undefined));
      // Third delivery succeeded: nothing left on either queue.
      await new Promise((r) => setTimeout(r, 2500));
      const { Messages } = await sqsClient().send(new ReceiveMessageCommand({ QueueUrl: queues.jobQueueUrl, WaitTimeSeconds: 1 }));
      expect(Messages ?? []).toHaveLength(0);
      const dlq = await sqsClient().send(new GetQueueAttributesCommand({ QueueUrl: queues.deadLetterQueueUrl, AttributeNames: ["ApproximateNumberOfMessages"] }));
      expect(dlq.Attributes?.ApproximateNumberOfMessages).toBe("0");
      expect(calls).toBe(3);
    } finally {
      await poller.stop();
      await queues.drop();
    }
  });
});

describe("schedule adapter (EventBridge Scheduler for CronV2)", () => {
  it("parses rate expressions and rejects what it cannot run", () => {
    expect(rateToMs("rate(1 minute)")).toBe(60_000);
    expect(rateToMs("rate(15 minutes)")).toBe(900_000);
    expect(rateToMs("rate(2 hours)")).toBe(7_200_000);
    expect(() => rateToMs("rate(2 minute)")).toThrow(/rate\(N minutes\)/);
    expect(() => rateToMs("cron(0 12 * * ? *)")).toThrow(/rate\(N minutes\|hours\|days\) only/);
  });

  it("invokes the handler with the schedule's payload on every tick and on demand", async () => {
    const received: unknown[] = [];
    const schedule = startSchedule({
      expression: "rate(1 minute)",
      intervalMs: 50,
      event: { provider: "triton" },
      settings,
      handler: async (event) => {
        received.push(event);
        return "done";
      },
    });
    expect(await schedule.runNow()).toBe("done");
    await until(() => (received.length >= 3 ? true : undefined), 2000);
    await schedule.stop();
    expect(received.every((e) => JSON.stringify(e) === '{"provider":"triton"}')).toBe(true);
  });
});
