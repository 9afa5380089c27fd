/**
 * Validated configuration. Every setting is read from an `IMAGESYNC_*` environment variable first and
 * otherwise from the SST `Resource` links (which SST fills from the encrypted link file on Lambda and the
 * local runtime fills through `SST_RESOURCE_*` variables). Each section is validated when first asked
 * for, so a function needs only the settings (and links) it uses, and a bad value fails with the setting's
 * name and where it came from, never with the value itself (it may be a secret).
 */
import { readFileSync } from "node:fs";
import { Resource } from "sst";
import * as z from "./zod";
import { describeIssues, fieldIssues } from "./issues";
import { eventBus, inventoryTable, jobQueue, syncQueues, syncWorkerFunctions, tuningVariables, type Provider, type SecretName } from "./resources";

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

type Env = Record<string, string | undefined>;
/** Looks up a linked resource by name; returns undefined when it is not linked. */
export type ResourceLookup = (name: string) => Record<string, unknown> | undefined;

const sstResource: ResourceLookup = (name) =>
  name in Resource ? (Resource as unknown as Record<string, Record<string, unknown>>)[name] : undefined;

/** Source ids key run records across both providers, so each starts with its provider's name. */
const sourceId = (provider: string) =>
  z.string().check(
    z.regex(
      new RegExp(`^${provider}-[a-z0-9._-]{1,90}$`),
      `must start with "${provider}-" and continue with a-z, 0-9, '.', '_' or '-' (ids are unique across providers)`,
    ),
  );

/** An integer from `min` to `max`, `fallback` when absent; `coerce` also reads it from a string (environment). */
const integer = (min: number, max: number, fallback: number, coerce = false) =>
  z._default((coerce ? z.coerce.number() : z.number()).check(z.int(), z.gte(min), z.lte(max)), fallback);

const clientTuning = {
  timeoutMs: integer(100, 900_000, 30_000),
  maxAttempts: integer(1, 10, 4),
  concurrency: integer(1, 64, 4),
};


export const TritonSourceSchema = z.pipe(
  z
    .strictObject({
      id: z.optional(sourceId("triton")),
      datacenter: z.string().check(z.regex(/^[a-z0-9][a-z0-9-]*$/, "must be a datacenter name like us-east-1")),
      url: z.url({ protocol: /^https?$/ }),
      account: z.nonEmptyString(),
      /** RBAC sub-user login; signs as /account/users/user/keys/fp. */
      user: z.optional(z.nonEmptyString()),
      /** MD5 fingerprint of the key; derived from the private key when absent. */
      keyId: z.optional(z.nonEmptyString()),
      privateKey: z.optional(z.nonEmptyString()),
      privateKeyPath: z.optional(z.nonEmptyString()),
      ...clientTuning,
    })
    .check(
      z.refine((s) => (s.privateKey === undefined) !== (s.privateKeyPath === undefined), {
        message: "exactly one of privateKey or privateKeyPath is required",
        path: ["privateKey"],
      }),
    ),
  z.transform(({ privateKeyPath, privateKey, ...rest }) => ({
    ...rest,
    id: rest.id ?? `triton-${rest.datacenter}-${rest.account}`.toLowerCase(),
    privateKey: privateKey ?? readKeyFile(privateKeyPath as string),
  })),
);
export type TritonSourceConfig = z.output<typeof TritonSourceSchema>;

export const CoxEdgeSourceSchema = z.pipe(
  z.strictObject({
    id: z.optional(sourceId("coxedge")),
    baseUrl: z._default(z.url({ protocol: /^https?$/ }), "https://portal.coxedge.com/api/v2"),
    service: z._default(z.string().check(z.regex(/^[a-z0-9-]+$/)), "edge-services"),
    environment: z.string().check(z.regex(/^[A-Za-z0-9_-]+$/)),
    apiKey: z.nonEmptyString(),
    organizationId: z.optional(z.nonEmptyString()),
    ...clientTuning,
  }),
  z.transform((s) => ({ ...s, id: s.id ?? `coxedge-${s.service}-${s.environment}`.toLowerCase() })),
);
export type CoxEdgeSourceConfig = z.output<typeof CoxEdgeSourceSchema>;

const TuningSchema = z.strictObject({
  tombstoneRetentionDays: integer(1, 3650, 30, true),
  runRetentionDays: integer(1, 3650, 90, true),
  syncLeaseSeconds: integer(30, 3600, 900, true),
  /** A listing removing more than this share of a source's live images waits for the next to confirm. */
  syncMaxRemovalShare: z._default(z.coerce.number().check(z.gte(0), z.lte(1)), 0.25),
  jobPollTimeoutSeconds: integer(60, 7 * 24 * 3600, 3600, true),
  jobPollMaxDelaySeconds: integer(1, 900, 900, true),
  /** Change records (the history) expire this many days after the change. */
  changeRetentionDays: integer(1, 3650, 90, true),
  /** A Triton copy holds the job worker this long for ImportImageFromDatacenter, then polls instead. */
  tritonCopyWaitSeconds: integer(1, 50, 20, true),
  corsOrigins: z.pipe(
    z._default(z.string(), ""),
    z.transform((s) => s.split(",").map((o) => o.trim()).filter(Boolean)),
  ),
});
export type Tuning = z.output<typeof TuningSchema>;

/** What a token may do: `read` the inventory, sources, runs and jobs; submit `jobs`; `admin` operations. */
export const tokenScopes = ["read", "jobs", "admin"] as const;
export type TokenScope = (typeof tokenScopes)[number];

const ApiTokenSchema = z.strictObject({
  /** Appears in logs in place of the token. */
  name: z.string().check(z.regex(/^[A-Za-z0-9._-]{1,64}$/, "must be 1-64 characters of A-Z, a-z, 0-9, '.', '_' or '-'")),
  token: z.string().check(z.minLength(16, "must be at least 16 characters")),
  scopes: z.array(z.enum(tokenScopes)).check(z.minLength(1, "must name at least one scope")),
});
export type ApiTokenConfig = z.output<typeof ApiTokenSchema>;

function parseTokenList(raw: string, origin: string): ApiTokenConfig[] {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ConfigError(`Invalid configuration (${origin}): ApiToken is not valid JSON`);
  }
  const parsed = z.array(ApiTokenSchema).check(z.minLength(1, "must hold at least one token")).safeParse(json);
  if (!parsed.success) throw new ConfigError(`Invalid configuration (${origin}): ${describeIssues(parsed.error, { prefix: "ApiToken" })}`);
  const names = parsed.data.map((entry) => entry.name);
  const tokens = parsed.data.map((entry) => entry.token);
  if (new Set(names).size !== names.length || new Set(tokens).size !== tokens.length) {
    throw new ConfigError(`Invalid configuration (${origin}): ApiToken names and tokens must each be unique`);
  }
  return parsed.data;
}

function readKeyFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError(`cannot read privateKeyPath ${path}: ${(error as NodeJS.ErrnoException).code ?? "error"}`);
  }
}


export class ConfigLoader {
  readonly #cache = new Map<string, unknown>();

  constructor(
    private readonly env: Env = process.env,
    private readonly resources: ResourceLookup = sstResource,
  ) {}

  tableName(): string {
    return this.#string("tableName", "IMAGESYNC_TABLE_NAME", inventoryTable.name, "name");
  }

  jobQueueUrl(): string {
    return this.#string("jobQueueUrl", "IMAGESYNC_JOB_QUEUE_URL", jobQueue.name, "url");
  }

  /**
   * Where change and job events go: a local file sink (IMAGESYNC_EVENTS_FILE, one JSON line each), else
   * the EventBridge bus (IMAGESYNC_EVENT_BUS_NAME or the linked `Events` bus).
   */
  eventTarget(): { kind: "file"; path: string } | { kind: "bus"; name: string } {
    const file = this.env.IMAGESYNC_EVENTS_FILE;
    if (file) return { kind: "file", path: file };
    return { kind: "bus", name: this.#string("eventBusName", "IMAGESYNC_EVENT_BUS_NAME", eventBus.name, "name") };
  }

  /** The provider's sync queue (one message per source to sync): IMAGESYNC_<PROVIDER>_SYNC_QUEUE_URL or the SST link. */
  syncQueueUrl(provider: Provider): string {
    return this.#string(`syncQueueUrl:${provider}`, syncWorkerFunctions[provider].queueEnv, syncQueues[provider].name, "url");
  }

  deadLetterQueueUrl(): string {
    return this.#string("deadLetterQueueUrl", "IMAGESYNC_DEAD_LETTER_QUEUE_URL", jobQueue.deadLetterName, "url");
  }

  /**
   * The API's bearer tokens: a JSON array of `{name, token, scopes}` (several at once, for rotation without
   * downtime), from IMAGESYNC_API_TOKENS or the ApiToken secret. A single plain token (IMAGESYNC_API_TOKEN,
   * or a secret that is not a JSON array) is one token named "default" with every scope.
   */
  apiTokens(): ApiTokenConfig[] {
    return this.#cached("apiTokens", () => {
      const list = this.env.IMAGESYNC_API_TOKENS;
      const { raw, origin } = list ? { raw: list, origin: "env IMAGESYNC_API_TOKENS" } : this.#secret("ApiToken", "IMAGESYNC_API_TOKEN");
      if (!raw.trimStart().startsWith("[")) {
        if (raw.length < 16) throw new ConfigError(`Invalid configuration (${origin}): ApiToken must be at least 16 characters`);
        return [{ name: "default", token: raw, scopes: [...tokenScopes] }];
      }
      return parseTokenList(raw, origin);
    });
  }

  tritonSources(): TritonSourceConfig[] {
    return this.#sources("TritonSources", "IMAGESYNC_TRITON_SOURCES", TritonSourceSchema);
  }

  coxedgeSources(): CoxEdgeSourceConfig[] {
    return this.#sources("CoxEdgeSources", "IMAGESYNC_COXEDGE_SOURCES", CoxEdgeSourceSchema);
  }

  tuning(): Tuning {
    return this.#cached("tuning", () => {
      const input = Object.fromEntries(
        Object.entries(tuningVariables)
          .map(([key, envName]) => [key, this.env[envName]])
          .filter(([, value]) => value !== undefined && value !== ""),
      );
      const parsed = TuningSchema.safeParse(input);
      if (!parsed.success) {
        const problems = fieldIssues(parsed.error).map(({ path, message }) => `${tuningVariables[path as keyof typeof tuningVariables]}: ${message}`);
        throw new ConfigError(`Invalid configuration (environment): ${problems.join("; ")}`);
      }
      return parsed.data;
    });
  }

  #cached<T>(key: string, load: () => T): T {
    if (!this.#cache.has(key)) this.#cache.set(key, load());
    return this.#cache.get(key) as T;
  }

  #string(key: string, envName: string, resourceName: string, property: string): string {
    return this.#cached(key, () => {
      const fromEnv = this.env[envName];
      if (fromEnv) return fromEnv;
      const value = this.resources(resourceName)?.[property];
      if (typeof value === "string" && value) return value;
      throw new ConfigError(`Missing setting ${key}: set ${envName} or link the ${resourceName} resource (Resource.${resourceName}.${property})`);
    });
  }

  #secret(name: SecretName, envName: string): { raw: string; origin: string } {
    const fromEnv = this.env[envName];
    if (fromEnv) return { raw: fromEnv, origin: `env ${envName}` };
    const value = this.resources(name)?.value;
    if (typeof value === "string" && value) return { raw: value, origin: `secret ${name}` };
    throw new ConfigError(`Missing setting ${name}: set ${envName} or the SST secret ${name} (sst secret set ${name} ...)`);
  }

  #sources<S extends z.ZodMiniType>(name: SecretName, envName: string, schema: S): z.output<S>[] {
    return this.#cached(name, () => {
      const { raw, origin } = this.#secret(name, envName);
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch {
        throw new ConfigError(`Invalid configuration (${origin}): ${name} is not valid JSON`);
      }
      const parsed = z.array(schema).safeParse(json);
      if (!parsed.success) throw new ConfigError(`Invalid configuration (${origin}): ${describeIssues(parsed.error, { prefix: name })}`);
      const ids = parsed.data.map((s) => (s as { id: string }).id);
      const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
      if (duplicate) throw new ConfigError(`Invalid configuration (${origin}): ${name} has two sources with id ${duplicate}`);
      return parsed.data;
    });
  }
}
