/** Cox Edge sync worker: one source per message from the Cox Edge sync queue. */
import { syncWorkerHandler } from "./lib/sync-worker";

export const handler = syncWorkerHandler("coxedge");
