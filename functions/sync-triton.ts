/** Scheduled Triton catalog sync: enqueues one sync per source (functions/sync-triton-worker.ts runs them). */
import { scheduledSyncHandler } from "./lib/scheduled-sync";

export const handler = scheduledSyncHandler("triton");
