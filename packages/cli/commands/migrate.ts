/**
 * `imagesync migrate index-keys`: moves images written before per-source index partitions onto their
 * source's own (store/migrations.ts; docs/capacity.md, "Migrating index keys"), against the running local
 * runtime when there is one, else the configured table (IMAGESYNC_TABLE_NAME and AWS credentials).
 * Idempotent and resumable: run it again after a stop. Exits 1 when an image could not be moved.
 */
import { useRunningLocalRuntime } from "../../local/runtime-info";
import { defineCommand, UsageError, type OptionSpecs } from "../command";
import { print, printJson } from "../output";

/** Every move also deletes from the one old `IMAGES` partition, about 2 write units apiece: 400 keeps it below 1,000 units a second. */
const defaultRate = 400;

export const migrateIndexKeys = defineCommand({
  name: "migrate index-keys",
  summary: "Moves images from the old single index partitions (IMAGES, IMAGEOS#<os>) to their source's own.",
  options: {
    "dry-run": { type: "boolean", help: "count the images still under the old keys without moving them" },
    rate: { type: "number", integer: true, min: 1, max: 1000, unit: "writes a second", help: `writes a second at most (default ${defaultRate})` },
  } satisfies OptionSpecs,
  notes: "Without a running local runtime it uses IMAGESYNC_TABLE_NAME and AWS credentials. Safe while syncs and jobs run.",
  async run({ options, json }) {
    const local = useRunningLocalRuntime();
    const [{ ConfigError, ConfigLoader }, { configuredTable }, { migrateImageIndexKeys }] = await Promise.all([
      import("../../core/config"),
      import("../../store/table"),
      import("../../store/migrations"),
    ]);
    let table: ReturnType<typeof configuredTable>;
    try {
      table = configuredTable(new ConfigLoader());
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      throw new UsageError(`${error.message}; start the local runtime (npm start) or configure the table`);
    }
    const dryRun = options["dry-run"];
    const say = json ? () => undefined : print;
    say(`${dryRun ? "Dry run: " : ""}table ${table.name}${local ? " (local runtime)" : ""}`);
    const report = await migrateImageIndexKeys(table, {
      writesPerSecond: options.rate ?? defaultRate,
      dryRun,
      onProgress: (progress) => say(`  ${dryRun ? `found ${progress.found}` : `moved ${progress.moved}, already moved ${progress.alreadyMoved}`}`),
    });
    for (const failure of report.failures) console.error(`  not moved: ${failure.key}: ${failure.error instanceof Error ? failure.error.message : String(failure.error)}`);
    if (json) printJson({ ...report, failures: report.failures.map((failure) => ({ key: failure.key, error: String(failure.error) })) });
    else if (dryRun) print(`${report.found} image(s) under the old index keys would be moved`);
    else print(`moved ${report.moved} image(s) (${report.alreadyMoved} already moved)${report.failures.length ? `, ${report.failures.length} failed: run it again` : ""}`);
    return report.failures.length ? 1 : 0;
  },
});
