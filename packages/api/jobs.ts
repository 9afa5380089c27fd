/** POST /jobs, GET /jobs, GET /jobs/{id}: image jobs, through the jobs domain (same schema as the queue). */
import type * as z from "../core/zod";
import { sqsClient } from "../core/aws";
import type { ConfigLoader } from "../core/config";
import { getJob, JobConflictError, JobIdSchema, JobListPositionSchema, listJobs, submitJob, type JobsContext } from "../jobs";
import { configuredTable } from "../store/table";
import { ApiProblem, invalidParam } from "./problem";
import { defineRoute } from "./route";
import { JobAcceptedSchema, JobListSchema, JobListQuerySchema, JobMessageSchema, JobPathSchema, JobSchema, jobView } from "./schemas";

const contexts = new WeakMap<ConfigLoader, JobsContext>();
function jobsContextFor(config: ConfigLoader): JobsContext {
  let context = contexts.get(config);
  if (!context) {
    context = { config, table: configuredTable(config), sqs: sqsClient(), queueUrl: config.jobQueueUrl() };
    contexts.set(config, context);
  }
  return context;
}

const location = (jobId: string) => `/jobs/${encodeURIComponent(jobId)}`;

export const submitJobRoute = defineRoute({
  tag: "jobs",
  summary: "Submit an image job",
  description:
    "Validates the job (the same JSON as a job-queue message), records it and queues it. `jobId` (or an " +
    "`Idempotency-Key` header) makes submission idempotent: the same id and job again return the stored job (200), " +
    "the same id with a different job is a conflict (409).",
  body: JobMessageSchema,
  scope: "jobs",
  responses: {
    202: { description: "Accepted and queued.", schema: JobAcceptedSchema, headers: { location: "The job's URL." } },
    200: { description: "A job with this id and request already exists; nothing new was queued.", schema: JobAcceptedSchema, headers: { location: "The job's URL." } },
    409: { description: "The job id is taken by a different job." },
  },
  async handle({ body, headers }, { config }) {
    const header = headers["idempotency-key"];
    if (header !== undefined) {
      const key = JobIdSchema.safeParse(header);
      if (!key.success) throw invalidParam("header", "idempotency-key", key.error.issues[0]?.message ?? "is not a valid job id");
      if (body.jobId !== undefined && body.jobId !== key.data) throw invalidParam("header", "idempotency-key", "differs from the body's jobId");
    }
    try {
      const { created, job } = await submitJob({ ...body, jobId: body.jobId ?? header }, jobsContextFor(config));
      return {
        status: created ? 202 : 200,
        headers: { location: location(job.jobId) },
        body: { jobId: job.jobId, state: job.state, created, location: location(job.jobId) } satisfies z.output<typeof JobAcceptedSchema>,
      };
    } catch (error) {
      if (error instanceof JobConflictError) throw new ApiProblem(409, error.message);
      throw error;
    }
  },
});

export const getJobRoute = defineRoute({
  tag: "jobs",
  summary: "A job's state",
  path: JobPathSchema,
  responses: { 200: { description: "The job.", schema: JobSchema }, 404: { description: "No job with this id." } },
  async handle({ path }, { config }) {
    const job = await getJob(configuredTable(config), path.id);
    if (!job) throw new ApiProblem(404, `No job ${path.id}`);
    return { status: 200, body: jobView(job) };
  },
});

export const listJobsRoute = defineRoute({
  tag: "jobs",
  summary: "Recent jobs, newest first",
  query: JobListQuerySchema,
  responses: { 200: { description: "A page of jobs.", schema: JobListSchema } },
  async handle({ query }, { config, cursors }) {
    const scope = `GET /jobs ${query.state ?? ""} ${query.provider ?? ""}`;
    const cursor = query.cursor === undefined ? undefined : cursors.decode(query.cursor, scope, JobListPositionSchema);
    const page = await listJobs(configuredTable(config), { state: query.state, provider: query.provider, limit: query.limit, cursor });
    return {
      status: 200,
      body: {
        items: page.jobs.map(jobView),
        ...(page.cursor ? { nextCursor: cursors.encode(page.cursor, scope) } : {}),
      } satisfies z.output<typeof JobListSchema>,
    };
  },
});
