/**
 * The console's job form comes from the API's own OpenAPI document: every action the job schema accepts,
 * with its parameters, and the job body it builds from what the operator typed.
 */
import { describe, expect, it } from "vitest";
import { openApiDocument } from "../../packages/api/openapi";
import { routes } from "../../packages/api/routes";
import { jobActions, jobBody } from "../../packages/console/job-schema";

const actions = jobActions(openApiDocument(routes));
const find = (provider: string, action: string) => actions.find((a) => a.provider === provider && a.action === action);

describe("jobActions", () => {
  it("lists every provider's actions, as docs/jobs.md does", () => {
    expect(actions.map((a) => `${a.provider} ${a.action}`).toSorted()).toEqual(
      ["coxedge create", "coxedge delete", "triton clone", "triton copy", "triton create", "triton delete", "triton export", "triton update"].toSorted(),
    );
  });

  it("gives each action's parameters, nested ones by their path, with what is required", () => {
    expect(find("triton", "copy")?.fields).toEqual([
      { path: "params.imageId", required: true, kind: "text", hint: "a UUID" },
      { path: "params.targetSource", required: true, kind: "text" },
    ]);
    const update = find("triton", "update")?.fields ?? [];
    expect(update.map((f) => f.path)).toEqual(["params.imageId", ...["name", "version", "description", "homepage", "eula", "acl", "tags"].map((n) => `params.fields.${n}`)]);
    expect(update.find((f) => f.path === "params.fields.description")).toMatchObject({ kind: "text", required: false });
    expect(update.find((f) => f.path === "params.fields.acl")).toMatchObject({ kind: "json" });
    expect(find("triton", "create")?.fields.find((f) => f.path === "params.tags")).toMatchObject({ kind: "json", hint: 'JSON, e.g. {"key": "value"}' });
  });

  it("refuses a document without job actions", () => {
    expect(() => jobActions({ paths: {} })).toThrow("describes no job actions");
  });
});

describe("jobBody", () => {
  it("sends filled fields only, JSON fields parsed, and text that is not JSON as it is, for the API to judge", () => {
    const update = find("triton", "update");
    if (!update) throw new Error("no triton update");
    const values = new Map([
      ["params.imageId", " 2b683a82-a066-11e3-97ab-2faa44701c5a "],
      ["params.fields.name", "web"],
      ["params.fields.version", ""],
      ["params.fields.tags", '{"role": "web"}'],
      ["params.fields.acl", "[not json"],
    ]);
    expect(jobBody(update, "triton-us-east-1-acme", values, "job-1")).toEqual({
      jobId: "job-1",
      provider: "triton",
      source: "triton-us-east-1-acme",
      action: "update",
      params: { imageId: "2b683a82-a066-11e3-97ab-2faa44701c5a", fields: { name: "web", tags: { role: "web" }, acl: "[not json" } },
    });
  });
});
