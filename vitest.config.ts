import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    setupFiles: ["test/support/env.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Test files share one DynamoDB Local and one SQS server; each file uses its own table/queues.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
