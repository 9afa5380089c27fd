/**
 * No secret in any log line or response: every test file of both tiers runs with this guard. Harnesses
 * register the secrets they configure (API tokens, Triton private keys, Cox Edge API keys); the guard
 * scans everything logged in this process (Powertools logs at DEBUG, console output), every body a test
 * reads through `fetch`, and whatever a test hands it from a child process, and fails the file on a hit.
 */
import { afterAll, expect } from "vitest";
import { upstreamUserAgent } from "../../packages/providers/http";
import { scanForSecrets, sightings } from "./secrets";

// Logs: Powertools writes through the global console in tests (POWERTOOLS_DEV, pretty-printed); structured
// log lines, metric records (EMF) and Powertools' own notices are scanned and then dropped unless
// POWERTOOLS_LOG_LEVEL was set by whoever runs the tests.
const showLogs = process.env.POWERTOOLS_LOG_LEVEL !== undefined;
const powertoolsOutput = /^\s*(\{\s*"(level|logLevel|_aws)"|No application metrics to publish)/;
process.env.POWERTOOLS_LOG_LEVEL ??= "DEBUG";
process.env.POWERTOOLS_DEV = "true";
for (const method of ["log", "info", "warn", "error", "debug"] as const) {
  const original = console[method].bind(console);
  console[method] = (...args: unknown[]) => {
    const text = args.map((arg) => (typeof arg === "string" ? arg : safeJson(arg))).join(" ");
    scanForSecrets(text, `console.${method}`);
    if (showLogs || !powertoolsOutput.test(text)) original(...args);
  };
}
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    scanForSecrets(String(chunk), stream === process.stdout ? "stdout" : "stderr");
    return write(chunk, ...rest);
  }) as typeof stream.write;
}

// Responses: every body a test reads through fetch. Not the upstream answers the product's HTTP client reads
// with fetch too: it redacts them itself, and provider tests make upstreams echo credentials on purpose.
const realFetch = globalThis.fetch;
globalThis.fetch = async (...args: Parameters<typeof fetch>) => {
  const response = await realFetch(...args);
  if (new Headers(args[1]?.headers).get("user-agent") === upstreamUserAgent) return response;
  void response
    .clone()
    .text()
    .then((text) => scanForSecrets(`${[...response.headers].join(" ")} ${text}`, `response of ${String(args[0]).slice(0, 80)}`))
    .catch(() => undefined);
  return response;
};

afterAll(async () => {
  await new Promise((resolve) => setTimeout(resolve, 20)); // let the last response scans finish
  expect(sightings, "secrets appeared in logs or responses").toEqual([]);
});

function safeJson(value: unknown): string {
  try {
    return value instanceof Error ? `${value.stack ?? value.message} ${JSON.stringify(value)}` : JSON.stringify(value);
  } catch {
    return String(value);
  }
}
