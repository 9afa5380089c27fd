/** Scheduled Cox Edge catalog sync. */
import { scheduledSyncHandler } from "./lib/scheduled-sync";

export const handler = scheduledSyncHandler("coxedge");
