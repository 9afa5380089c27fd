/** Triton sync worker: one source per message from the Triton sync queue. */
import { syncWorkerHandler } from "./lib/sync-worker";

export const handler = syncWorkerHandler("triton");
