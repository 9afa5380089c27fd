/**
 * The job submit form, derived from the API's own description of `POST /jobs` (its OpenAPI document, made
 * from the schema the API validates with): every provider's actions and each action's parameters, so the
 * form cannot offer a job the API would not know. No DOM here, so it is unit-tested on its own.
 */
type JsonSchema = Record<string, unknown>;

export interface ParamField {
  /** Where the value goes in the job, as the API names fields in its errors: `params.fields.name`. */
  path: string;
  required: boolean;
  /** `text` is sent as typed; `json` (arrays, objects, nullable mixes) is parsed as JSON first. */
  kind: "text" | "json";
  hint?: string;
}

export interface JobAction {
  provider: string;
  action: string;
  fields: ParamField[];
}

const isSchema = (value: unknown): value is JsonSchema => typeof value === "object" && value !== null && !Array.isArray(value);
const constOf = (schema: unknown) => (isSchema(schema) && typeof schema.const === "string" ? schema.const : undefined);

/** Every object schema under `oneOf`/`anyOf` that names a provider and an action. */
function variants(schema: unknown): JsonSchema[] {
  if (!isSchema(schema)) return [];
  const alternatives = [...((schema.oneOf as unknown[]) ?? []), ...((schema.anyOf as unknown[]) ?? [])];
  if (alternatives.length) return alternatives.flatMap(variants);
  const properties = schema.properties;
  return isSchema(properties) && constOf(properties.provider) && constOf(properties.action) ? [schema] : [];
}

function hintFor(schema: JsonSchema): string | undefined {
  if (schema.format === "uuid") return "a UUID";
  if (schema.type === "array") return 'JSON, e.g. ["…"]';
  if (schema.type === "object" || schema.anyOf) return 'JSON, e.g. {"key": "value"}';
  return undefined;
}

/** The fields of an object schema; a nested object with its own properties (update's `fields`) is flattened. */
function fieldsOf(schema: unknown, prefix: string): ParamField[] {
  if (!isSchema(schema) || !isSchema(schema.properties)) return [];
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  return Object.entries(schema.properties).flatMap(([name, property]): ParamField[] => {
    if (!isSchema(property)) return [];
    const path = `${prefix}.${name}`;
    if (property.type === "object" && isSchema(property.properties)) return fieldsOf(property, path);
    const types: unknown[] = Array.isArray(property.type) ? property.type : [property.type];
    const text = types.includes("string") && types.every((type) => type === "string" || type === "null");
    return [{ path, required: required.has(name), kind: text ? "text" : "json", hint: hintFor(property) }];
  });
}

/** Every action the API takes, from its OpenAPI document; throws when the document has no `POST /jobs` body. */
export function jobActions(openapi: unknown): JobAction[] {
  const body = (openapi as { paths?: Record<string, { post?: { requestBody?: { content?: Record<string, { schema?: unknown }> } } }> }).paths?.["/jobs"]?.post
    ?.requestBody?.content?.["application/json"]?.schema;
  const found = variants(body).map((variant) => {
    const properties = variant.properties as JsonSchema;
    return { provider: constOf(properties.provider) as string, action: constOf(properties.action) as string, fields: fieldsOf(properties.params, "params") };
  });
  if (found.length === 0) throw new Error("the API's OpenAPI document describes no job actions");
  return found;
}

/**
 * The job to submit: filled fields only. A JSON field that does not parse is sent as the text it is, so the
 * API names the field and says what it must be (the form shows the API's own words, never its own).
 */
export function jobBody(action: JobAction, source: string, values: ReadonlyMap<string, string>, jobId?: string): Record<string, unknown> {
  const job: Record<string, unknown> = { ...(jobId ? { jobId } : {}), provider: action.provider, source, action: action.action, params: {} };
  for (const field of action.fields) {
    const text = values.get(field.path)?.trim() ?? "";
    if (text === "") continue;
    let value: unknown = text;
    if (field.kind === "json") {
      try {
        value = JSON.parse(text);
      } catch {
        value = text;
      }
    }
    setPath(job, field.path.split("."), value);
  }
  return job;
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  const [head, ...rest] = path as [string, ...string[]];
  if (rest.length === 0) {
    target[head] = value;
    return;
  }
  const child = isSchema(target[head]) ? (target[head] as Record<string, unknown>) : (target[head] = {});
  setPath(child as Record<string, unknown>, rest, value);
}
