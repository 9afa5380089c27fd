import { configDefaults, defineConfig } from "vitest/config";

/** Unit tests start no server, no child process and no Java; the name tells them apart. */
const unitTests = "test/**/*.unit.test.ts";

export default defineConfig({
  test: {
    // The JSON report is what .ci/run reads to print its closing "N passed, N failed" line.
    reporters: ["default", ["json", { outputFile: ".vitest.json" }]],
    // Test files share one DynamoDB Local and one SQS server; each file uses its own table/queues.
    fileParallelism: true,
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: [unitTests],
          setupFiles: ["test/support/leak-guard.ts"],
          // Nothing runs for a unit test: an AWS call made by mistake fails at once instead of reaching AWS.
          env: {
            AWS_ENDPOINT_URL_DYNAMODB: "http://127.0.0.1:9",
            AWS_ENDPOINT_URL_SQS: "http://127.0.0.1:9",
            AWS_REGION: "us-east-1",
            AWS_ACCESS_KEY_ID: "unit",
            AWS_SECRET_ACCESS_KEY: "unit",
          },
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["test/**/*.test.ts"],
          exclude: [...configDefaults.exclude, unitTests],
          globalSetup: ["test/global-setup.ts"],
          setupFiles: ["test/support/env.ts", "test/support/leak-guard.ts"],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
