/** The API's responses as the console reads them (docs/api.md and GET /openapi.json have the whole shapes). */
export type Provider = "triton" | "coxedge";
export type Scope = "read" | "jobs" | "admin";

export interface Me {
  name: string;
  scopes: Scope[];
}

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

export interface ImageSummary {
  provider: Provider;
  source: string;
  id: string;
  name: string;
  version: string;
  os?: string;
  type?: string;
  state: string;
  status?: string;
  public?: boolean;
  owner?: string;
  createdAt?: string;
  publishedAt?: string;
  firstSeenAt: string;
  lastSeenAt: string;
  lastChangedAt: string;
  removedAt?: string;
}

export interface ImageDetail extends ImageSummary {
  description?: string;
  contentHash: string;
  raw: Record<string, unknown>;
  seenIn: { source: string; removedAt?: string }[];
}

export interface InventoryCounts {
  at: string;
  states: Record<string, number>;
  removed: number;
}

export interface ImageCounts {
  items: (InventoryCounts & { provider: Provider; source: string; present: number })[];
  total: { states: Record<string, number>; present: number; removed: number };
}

export interface SyncRun {
  runId: string;
  status: "ok" | "failed" | "skipped-locked";
  trigger: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  counts: { seen: number; added: number; changed: number; removed: number; revived: number; unchanged: number };
  writes: number;
  /** What the listing was compared with: nothing (`listing`, the known one), the state digest, or every image item. */
  compared?: "listing" | "digest" | "items";
  error?: string;
}

export interface LatestRun extends SyncRun {
  lastOkAt?: string;
  lastOkSnapshotAt?: string;
  consecutiveFailures?: number;
}

export interface Source {
  id: string;
  provider: Provider;
  datacenter?: string;
  url?: string;
  account?: string;
  baseUrl?: string;
  service?: string;
  environment?: string;
  latestRun: LatestRun | null;
}

export interface JobError {
  code: string;
  message: string;
  status?: number;
  upstreamCode?: string;
  upstreamMessage?: string;
  requestId?: string;
}

export const jobStates = ["queued", "submitting", "submitted", "polling", "succeeded", "failed"] as const;
export type JobState = (typeof jobStates)[number];
export const isFinished = (state: JobState) => state === "succeeded" || state === "failed";

export interface Job {
  jobId: string;
  state: JobState;
  request?: { provider: Provider; source: string; action: string; params: Record<string, unknown> };
  attempts: number;
  polls: number;
  createdAt: string;
  updatedAt: string;
  submittedAt?: string;
  finishedAt?: string;
  nextCheckAt?: string;
  result?: { imageId: string };
  error?: JobError;
  lastError?: JobError;
}

export interface Change {
  id: string;
  at: string;
  kind: "added" | "changed" | "removed" | "revived";
  provider: Provider;
  source: string;
  imageId: string;
  name: string;
  version: string;
  fields: { path: string; old?: unknown; new?: unknown }[];
  fieldsTruncated?: boolean;
  cause?: string;
}
