import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, ConfigLoader, type ResourceLookup } from "../../packages/core/config";

const noLinks: ResourceLookup = () => undefined;
const links = (resources: Record<string, Record<string, unknown>>): ResourceLookup => (name) => resources[name];
const secretKey = "-----BEGIN PRIVATE KEY-----\nsecret-material\n-----END PRIVATE KEY-----\n";

describe("ConfigLoader", () => {
  it("reads linked SST resources and lets IMAGESYNC_* variables override them", () => {
    const resources = links({ Inventory: { name: "inventory-prod" }, JobQueue: { url: "https://sqs.example/jobs" } });
    expect(new ConfigLoader({}, resources).tableName()).toBe("inventory-prod");
    expect(new ConfigLoader({}, resources).jobQueueUrl()).toBe("https://sqs.example/jobs");
    expect(new ConfigLoader({ IMAGESYNC_TABLE_NAME: "override" }, resources).tableName()).toBe("override");
  });

  it("names the missing setting and how to provide it", () => {
    expect(() => new ConfigLoader({}, noLinks).tableName()).toThrow(
      "Missing setting tableName: set IMAGESYNC_TABLE_NAME or link the Inventory resource (Resource.Inventory.name)",
    );
    expect(() => new ConfigLoader({}, noLinks).tritonSources()).toThrow(/Missing setting TritonSources: set IMAGESYNC_TRITON_SOURCES or the SST secret TritonSources/);
  });

  it("parses Triton sources from the secret, reading key files and deriving ids", () => {
    const dir = mkdtempSync(join(tmpdir(), "imagesync-config-"));
    const keyPath = join(dir, "id_ed25519");
    writeFileSync(keyPath, secretKey);
    const value = JSON.stringify([
      { datacenter: "us-east-1", url: "https://us-east-1.api.example.com", account: "Alice", privateKeyPath: keyPath },
      { id: "triton-eu-ops", datacenter: "eu-ams-1", url: "https://eu.example.com", account: "ops", user: "robot", keyId: "aa:bb", privateKey: secretKey, maxAttempts: 2 },
    ]);
    const [first, second] = new ConfigLoader({}, links({ TritonSources: { value } })).tritonSources();
    expect(first).toMatchObject({ id: "triton-us-east-1-alice", account: "Alice", privateKey: secretKey, timeoutMs: 30_000, maxAttempts: 4, concurrency: 4 });
    expect(second).toMatchObject({ id: "triton-eu-ops", user: "robot", keyId: "aa:bb", maxAttempts: 2 });
  });

  it("rejects bad sources naming the field, without echoing secrets", () => {
    const bad = JSON.stringify([{ datacenter: "us-east-1", url: "ftp://x", account: "a", privateKey: secretKey, privateKeyPath: "/k" }]);
    let error: unknown;
    try {
      new ConfigLoader({ IMAGESYNC_TRITON_SOURCES: bad }, noLinks).tritonSources();
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain("env IMAGESYNC_TRITON_SOURCES");
    expect(message).toContain("TritonSources[0].url");
    expect(message).toContain("TritonSources[0].privateKey: exactly one of privateKey or privateKeyPath is required");
    expect(message).not.toContain("secret-material");
  });

  it("rejects unknown fields, invalid JSON, missing key files and duplicate ids", () => {
    const cox = (sources: unknown) => () => new ConfigLoader({ IMAGESYNC_COXEDGE_SOURCES: JSON.stringify(sources) }, noLinks).coxedgeSources();
    expect(cox([{ environment: "prod", apiKey: "k", apikey: "typo" }])).toThrow(/CoxEdgeSources\[0\]: Unrecognized key: "apikey"/);
    expect(cox([{ environment: "prod" }])).toThrow(/CoxEdgeSources\[0\]\.apiKey/);
    expect(cox([{ id: "triton-x", environment: "prod", apiKey: "k" }])).toThrow(/CoxEdgeSources\[0\]\.id: must start with "coxedge-"/);
    expect(cox([{ environment: "prod", apiKey: "k" }, { environment: "prod", apiKey: "k2" }])).toThrow(/two sources with id coxedge-edge-services-prod/);
    expect(() => new ConfigLoader({ IMAGESYNC_COXEDGE_SOURCES: "[{" }, noLinks).coxedgeSources()).toThrow(/CoxEdgeSources is not valid JSON/);
    const missingKey = JSON.stringify([{ datacenter: "dc", url: "https://x.example", account: "a", privateKeyPath: "/nonexistent/key" }]);
    expect(() => new ConfigLoader({ IMAGESYNC_TRITON_SOURCES: missingKey }, noLinks).tritonSources()).toThrow(/cannot read privateKeyPath \/nonexistent\/key: ENOENT/);
  });

  it("applies Cox Edge defaults for the production endpoint", () => {
    const [source] = new ConfigLoader({ IMAGESYNC_COXEDGE_SOURCES: '[{"environment":"test-area","apiKey":"k"}]' }, noLinks).coxedgeSources();
    expect(source).toMatchObject({ id: "coxedge-edge-services-test-area", baseUrl: "https://portal.coxedge.com/api/v2", service: "edge-services" });
  });

  it("validates tuning values and requires a strong API token", () => {
    expect(new ConfigLoader({}, noLinks).tuning()).toMatchObject({ tombstoneRetentionDays: 30, corsOrigins: [] });
    expect(new ConfigLoader({ IMAGESYNC_CORS_ORIGINS: "https://a.example, https://b.example" }, noLinks).tuning().corsOrigins).toEqual(["https://a.example", "https://b.example"]);
    expect(() => new ConfigLoader({ IMAGESYNC_TOMBSTONE_RETENTION_DAYS: "0" }, noLinks).tuning()).toThrow(/IMAGESYNC_TOMBSTONE_RETENTION_DAYS: Too small/);
    expect(() => new ConfigLoader({ IMAGESYNC_API_TOKEN: "short" }, noLinks).apiTokens()).toThrow(/ApiToken must be at least 16 characters/);
    expect(new ConfigLoader({}, links({ ApiToken: { value: "a-long-enough-token" } })).apiTokens()).toEqual([
      { name: "default", token: "a-long-enough-token", scopes: ["read", "jobs", "admin"] },
    ]);
  });

  it("reads a list of named tokens with scopes, and names what is wrong without echoing a token", () => {
    const list = [
      { name: "ci", token: "ci-token-0123456789", scopes: ["read", "jobs"] },
      { name: "dashboard", token: "dash-token-0123456789", scopes: ["read"] },
    ];
    expect(new ConfigLoader({ IMAGESYNC_API_TOKENS: JSON.stringify(list) }, noLinks).apiTokens()).toEqual(list);
    expect(new ConfigLoader({}, links({ ApiToken: { value: JSON.stringify(list) } })).apiTokens()).toEqual(list);
    const tokens = (value: unknown) => () => new ConfigLoader({ IMAGESYNC_API_TOKENS: JSON.stringify(value) }, noLinks).apiTokens();
    expect(tokens([{ name: "x", token: "short", scopes: ["read"] }])).toThrow(/ApiToken\[0\]\.token: must be at least 16 characters/);
    expect(tokens([{ name: "x", token: "long-enough-token-1", scopes: ["delete"] }])).toThrow(/ApiToken\[0\]\.scopes\[0\]/);
    expect(tokens([{ name: "x", token: "long-enough-token-1", scopes: [] }])).toThrow(/must name at least one scope/);
    expect(tokens([list[0], { ...list[1], name: "ci" }])).toThrow(/names and tokens must each be unique/);
    expect(tokens([])).toThrow(/must hold at least one token/);
    const refused = tokens([{ name: "x", token: "secret-token-that-must-not-show", scopes: ["nope"] }]);
    expect(refused).toThrow(/ApiToken\[0\]\.scopes\[0\]/);
    expect(refused).not.toThrow(/secret-token-that-must-not-show/);
  });
});
