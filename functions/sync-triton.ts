/** Scheduled Triton catalog sync. */
import { scheduledSyncHandler } from "./lib/scheduled-sync";

export const handler = scheduledSyncHandler("triton");
