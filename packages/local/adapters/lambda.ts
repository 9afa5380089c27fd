/** Invokes a Lambda handler the way the Lambda runtime does: a Context, a timeout, one event at a time. */
import { randomUUID } from "node:crypto";
import type { Context } from "aws-lambda";

export type LambdaHandler<E = unknown, R = unknown> = (event: E, context: Context) => Promise<R>;

export interface FunctionSettings {
  functionName: string;
  timeoutSeconds: number;
  memoryMB?: number;
  region?: string;
}

export class LambdaTimeoutError extends Error {
  override readonly name = "LambdaTimeoutError";
}

export function lambdaContext(settings: FunctionSettings, deadline: number): Context {
  const region = settings.region ?? process.env.AWS_REGION ?? "us-east-1";
  const unsupported = () => {
    throw new Error("callback-style context methods are not supported; return a promise");
  };
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: settings.functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:${settings.functionName}`,
    memoryLimitInMB: String(settings.memoryMB ?? 1024),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${settings.functionName}`,
    logStreamName: `local/${process.pid}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}

/** Runs one invocation; rejects with LambdaTimeoutError when the function's timeout passes first. */
export async function invoke<E, R>(handler: LambdaHandler<E, R>, event: E, settings: FunctionSettings): Promise<R> {
  const timeoutMs = settings.timeoutSeconds * 1000;
  const context = lambdaContext(settings, Date.now() + timeoutMs);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new LambdaTimeoutError(`${settings.functionName}: Task timed out after ${settings.timeoutSeconds} seconds`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([handler(event, context), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
