/** Scheduled Cox Edge catalog sync: enqueues one sync per source (functions/sync-coxedge-worker.ts runs them). */
import { scheduledSyncHandler } from "./lib/scheduled-sync";

export const handler = scheduledSyncHandler("coxedge");
