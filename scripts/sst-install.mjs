// Type-checking sst.config.ts needs SST's platform types in .sst/platform, which `sst install` writes.
// Offline that works only with the dependency check and bun disabled (npm fills the platform instead).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

if (!existsSync(".sst/platform/config.d.ts")) {
  const env = { ...process.env, SST_TELEMETRY_DISABLED: "1", SST_SKIP_DEPENDENCY_CHECK: "1", SST_NO_BUN: "1" };
  const result = spawnSync("npx", ["sst", "install", "--stage", "ci"], { stdio: "inherit", env });
  if (result.status !== 0) {
    console.error("sst install failed; sst.config.ts cannot be type-checked without .sst/platform");
    process.exit(result.status ?? 1);
  }
}
