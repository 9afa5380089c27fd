/**
 * `migrateImageIndexKeys` and `imagesync migrate index-keys` on DynamoDB Local: images an earlier version wrote
 * under gsi1 `IMAGES` / gsi2 `IMAGEOS#<os>` are invisible to the per-source listing until moved; the migration
 * moves them with nothing but their index attributes changed, a second run finds nothing (idempotent), a
 * stopped one picks up the rest (resumable), and an image a sync rewrote meanwhile is left as the sync wrote it.
 */
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import type { TritonImage } from "../../packages/providers/triton/schemas";
import { writeImageContent, type SourceRef } from "../../packages/store/inventory";
import { listImages } from "../../packages/store/inventory-queries";
import { itemKeys } from "../../packages/store/keys";
import { migrateImageIndexKeys } from "../../packages/store/migrations";
import { normaliseImage } from "../../packages/store/normalise";
import type { Table } from "../../packages/store/table";
import { tableForThisFile } from "../support/stack";
import { tritonImage } from "./fixtures";

const testTable = tableForThisFile();
const source: SourceRef = { provider: "triton", sourceId: "triton-old" };
const resumed: SourceRef = { provider: "triton", sourceId: "triton-resumed" };
const viaCli: SourceRef = { provider: "triton", sourceId: "triton-cli" };
const observedAt = new Date(Date.now() - 86_400_000).toISOString();

const imageNumber = (n: number): TritonImage => {
  const { os: _os, ...withoutOs } = tritonImage;
  return { ...(n % 3 === 0 ? withoutOs : tritonImage), id: `${String(n).padStart(8, "0")}-a066-11e3-97ab-2faa44701c5a`, name: `image-${n}` };
};

/** Writes images as this version does, then puts their index keys back the way the earlier version wrote them. */
async function writeAsBefore(table: Table, count: number, into = source): Promise<string[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, n) => {
      const image = normaliseImage({ provider: "triton", image: imageNumber(n) });
      await writeImageContent(table, into.sourceId, image, observedAt, "sync:old");
      const os = image.view.os;
      await table.client.send(
        new UpdateCommand({
          TableName: table.name,
          Key: { pk: itemKeys.imagePartition(into), sk: image.upstreamId },
          UpdateExpression: os === undefined ? "SET gsi1pk = :images" : "SET gsi1pk = :images, gsi2pk = :os",
          ExpressionAttributeValues: { ":images": itemKeys.legacyAllImages, ...(os === undefined ? {} : { ":os": itemKeys.legacyImagesWithOs(os) }) },
        }),
      );
      return image.upstreamId;
    }),
  );
}

const listed = async (table: Table, os?: string, of = source) => (await listImages(table, { presence: "all", os }, [of], { limit: 1000 })).items.map((item) => item.upstreamId);
const item = async (table: Table, upstreamId: string, of = source) =>
  (await table.client.send(new GetCommand({ TableName: table.name, Key: { pk: itemKeys.imagePartition(of), sk: upstreamId } }))).Item as Record<string, unknown>;

describe("migrateImageIndexKeys", () => {
  it("moves every image onto its source's partitions, changing nothing else; a second run finds nothing", async () => {
    const { table } = testTable;
    const ids = await writeAsBefore(table, 12);
    expect(await listed(table)).toEqual([]);
    const before = await item(table, ids[1] as string);

    expect(await migrateImageIndexKeys(table, { writesPerSecond: 1000, dryRun: true })).toMatchObject({ found: 12, moved: 0 });
    expect(await listed(table)).toEqual([]);

    const progress: number[] = [];
    const report = await migrateImageIndexKeys(table, { writesPerSecond: 1000, dryRun: false, onProgress: (p) => progress.push(p.moved) });
    expect(report).toMatchObject({ moved: 12, failures: [] });
    expect(progress.at(-1)).toBe(12);
    expect(await listed(table)).toEqual(ids.toSorted());
    // Images with an os are under their source's os partition too; the others have no gsi2 keys.
    expect(await listed(table, "smartos")).toEqual(ids.filter((_, n) => n % 3 !== 0).toSorted());
    const after = await item(table, ids[1] as string);
    expect(after).toEqual({ ...before, gsi1pk: itemKeys.sourceImages(source), gsi2pk: itemKeys.sourceImagesWithOs(source, "smartos") });
    expect(Object.keys(await item(table, ids[0] as string))).not.toContain("gsi2pk");

    expect(await migrateImageIndexKeys(table, { writesPerSecond: 1000, dryRun: false })).toMatchObject({ moved: 0, failures: [] });
  });

  it("picks up where a stopped run left off, and leaves an image a sync rewrote meanwhile as the sync wrote it", async () => {
    const { table } = testTable;
    const ids = await writeAsBefore(table, 8, resumed);
    // A stopped run had moved three; then a sync of this version rewrote one more (it writes the new keys itself).
    for (const upstreamId of ids.slice(5)) {
      await table.client.send(
        new UpdateCommand({ TableName: table.name, Key: { pk: itemKeys.imagePartition(resumed), sk: upstreamId }, UpdateExpression: "SET gsi1pk = :own", ExpressionAttributeValues: { ":own": itemKeys.sourceImages(resumed) } }),
      );
    }
    const changed = normaliseImage({ provider: "triton", image: { ...imageNumber(1), description: "changed" } });
    await writeImageContent(table, resumed.sourceId, changed, new Date().toISOString(), "sync:new");

    expect(await migrateImageIndexKeys(table, { writesPerSecond: 1000, dryRun: false })).toMatchObject({ moved: 4, failures: [] });
    expect(await listed(table, undefined, resumed)).toEqual(ids.toSorted());
    expect(await item(table, ids[1] as string, resumed)).toMatchObject({ description: "changed", gsi1pk: itemKeys.sourceImages(resumed), cause: "sync:new" });
  });
});

describe("imagesync migrate index-keys", () => {
  const cli = (...args: string[]) =>
    promisify(execFile)(process.execPath, ["bin/imagesync.mjs", "migrate", "index-keys", ...args], {
      // Never a developer's running `npm start`.
      env: { ...process.env, IMAGESYNC_TABLE_NAME: testTable.table.name, IMAGESYNC_DATA_DIR: mkdtempSync(join(tmpdir(), "migrate-")) },
    });

  it("counts on a dry run, then moves, and says so", async () => {
    await writeAsBefore(testTable.table, 4, viaCli);
    expect((await cli("--dry-run")).stdout).toMatch(/^4 image\(s\) under the old index keys would be moved$/m);
    expect((await cli("--rate", "200")).stdout).toMatch(/^moved 4 image\(s\) \(0 already moved\)$/m);
    expect(JSON.parse((await cli("--json")).stdout)).toMatchObject({ moved: 0, failures: [] });
  });

  it("refuses a rate out of range, naming the option (exit 2)", async () => {
    const failed = await cli("--rate", "0").catch((error: { code: number; stderr: string }) => error);
    expect(failed).toMatchObject({ code: 2, stderr: expect.stringContaining("--rate must be an integer of writes a second from 1 to 1000") });
  });
});
