/** The job API other modules use (the HTTP API submits, reads and lists jobs through it). */
import { getJob as getStoredJob, listJobs as listStoredJobs, type ListJobsQuery } from "../store/jobs";
import type { Table } from "../store/table";
import type { JobRequest } from "./schema";

/** A job record with its request typed exactly. */
export const getJob = (table: Table, jobId: string) => getStoredJob<JobRequest>(table, jobId);
/** Jobs newest first, with their requests typed exactly. */
export const listJobs = (table: Table, query: ListJobsQuery) => listStoredJobs<JobRequest>(table, query);

export { JobMessageSchema, JobIdSchema, type JobMessage, type JobRecord, type JobRequest } from "./schema";
export { submitJob, JobConflictError, JobValidationError } from "./submit";
export { jobsContext, type JobsContext } from "./context";
export {
  jobStates,
  isTerminal,
  JobListPositionSchema,
  type JobError,
  type JobListPosition,
  type JobResult,
  type JobState,
  type ListJobsQuery,
} from "../store/jobs";
