/** The job API other modules use (the HTTP API submits, reads and lists jobs through it). */
export { JobMessageSchema, JobIdSchema, type JobMessage, type JobRequest } from "./schema";
export { submitJob, JobConflictError, JobValidationError } from "./submit";
export { jobsContext, type JobsContext } from "./context";
export {
  getJob,
  listJobs,
  jobStates,
  isTerminal,
  JobListPositionSchema,
  type JobError,
  type JobListPosition,
  type JobRecord,
  type JobResult,
  type JobState,
  type ListJobsQuery,
} from "../store/jobs";
