/// <reference path="./.sst/platform/config.d.ts" />

export default $config({
  app(input) {
    return {
      name: "imagesync",
      removal: input?.stage === "production" ? "retain" : "remove",
      protect: input?.stage === "production",
      home: "aws",
      providers: { aws: { region: process.env.AWS_REGION ?? "us-east-1" } },
    };
  },
  async run() {
    const { secrets } = await import("./infra/secrets");
    const { table } = await import("./infra/storage");
    const { jobQueue, deadLetterQueue } = await import("./infra/queues");
    await import("./infra/cron");
    const { api } = await import("./infra/api");
    await import("./infra/console");
    const { bus } = await import("./infra/changes");
    const { alarmTopic, dashboard } = await import("./infra/monitoring");
    return {
      api: api.url,
      console: $interpolate`${api.url}/`,
      table: table.name,
      jobQueue: jobQueue.url,
      deadLetterQueue: deadLetterQueue.url,
      secrets: Object.keys(secrets).join(","),
      eventBus: bus.name,
      alarmTopic: alarmTopic.arn,
      dashboard: dashboard.dashboardName,
    };
  },
});
