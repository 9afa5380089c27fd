import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The JSON report is what .ci/run reads to print its closing "N passed, N failed" line.
    reporters: ["default", ["json", { outputFile: ".vitest.json" }]],
    globalSetup: ["test/global-setup.ts"],
    setupFiles: ["test/support/env.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Test files share one DynamoDB Local and one SQS server; each file uses its own table/queues.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
