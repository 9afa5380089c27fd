/**
 * Invariant 1: no image tombstoned or changed by a failed or invalid listing. Checked after every sync
 * round of every source, against the simulator's catalog sampled right before (`before`) and right after
 * (`after`) the round's sync, and its effect ledger, which timestamps every image that came, changed or
 * went in between (jobs keep changing the catalogs while syncs run):
 * - a run that failed wrote nothing: `writes` is 0 and no item carries its `snapshotAt` as `observedAt`;
 * - every live item a run wrote (its `observedAt` is the run's `snapshotAt`) was upstream at some moment
 *   of the round, and when the image did not change upstream during the round, the item holds exactly
 *   that image (content hash and raw document);
 * - no image that was upstream throughout since the previous check (in its `after` sample, and never
 *   deleted since) has been tombstoned since then, by a run or anyone else.
 */
import { isDeepStrictEqual } from "node:util";
import type { EffectLedger } from "../../packages/simulators/kit";
import type { NormalisedImage } from "../../packages/store/normalise";
import type { SyncRun } from "../../packages/store/runs";
import type { CatalogSample, SoakSource, StoredImage } from "./catalogs";
import type { InvariantResult } from "./report";

/** Effects that bring an image into a catalog. */
const arrivals = new Set(["create", "clone", "copy"]);

export interface ListingFigures {
  runs: number;
  failedRuns: number;
  /** Runs that held mass removals back (a dropped listing, most likely). */
  heldRuns: number;
  /** Items tombstoned since the previous check, each checked. */
  newTombstones: number;
  /** Live items written by an ok run, each checked to have been upstream. */
  written: number;
  /** Of those, images steady upstream through the round, checked to be stored exactly. */
  exact: number;
}

export class ListingInvariant {
  readonly figures: ListingFigures = { runs: 0, failedRuns: 0, heldRuns: 0, newTombstones: 0, written: 0, exact: 0 };
  readonly violations: string[] = [];
  readonly #previous = new Map<string, { sample: CatalogSample; stored: Map<string, StoredImage> }>();

  result(): InvariantResult {
    const { runs, failedRuns, heldRuns, newTombstones, written, exact } = this.figures;
    return {
      name: "1. no image tombstoned or changed by a failed or invalid listing",
      passed: this.violations.length === 0,
      figures:
        `${runs} runs (${failedRuns} failed, ${heldRuns} held mass removals); checked ${newTombstones} new tombstones and ` +
        `${written} live writes (${exact} of steady images, compared exactly): ${this.violations.length} violations`,
      violations: this.violations,
    };
  }

  /** Before the first sync: the catalog as it was, nothing stored. */
  begin(source: SoakSource, sample: CatalogSample): void {
    this.#previous.set(source.id, { sample, stored: new Map() });
  }

  /** After a round: `stored` was read once the sync was over, finishing at `readAt`. */
  check(source: SoakSource, run: SyncRun, before: CatalogSample, after: CatalogSample, stored: Map<string, StoredImage>, readAt: number): void {
    const previous = this.#previous.get(source.id);
    if (!previous) throw new Error(`no starting point for ${source.id}`);
    this.#checkTombstones(source, previous, stored, readAt);
    this.#checkRun(source, run, before, after, stored);
    this.#previous.set(source.id, { sample: after, stored });
  }

  #checkTombstones(source: SoakSource, previous: { sample: CatalogSample; stored: Map<string, StoredImage> }, stored: Map<string, StoredImage>, readAt: number): void {
    for (const image of stored.values()) {
      if (!image.removedAt || previous.stored.get(image.upstreamId)?.removedAt) continue;
      this.figures.newTombstones++;
      const deleted = source.effects.onImage(image.upstreamId, previous.sample.at, readAt).some((effect) => effect.kind === "delete");
      if (previous.sample.images.has(image.upstreamId) && !deleted) {
        this.violations.push(`${source.id} ${image.upstreamId}: tombstoned at ${image.removedAt} though upstream throughout since ${iso(previous.sample.at)}`);
      }
    }
  }

  #checkRun(source: SoakSource, run: SyncRun, before: CatalogSample, after: CatalogSample, stored: Map<string, StoredImage>): void {
    if (run.status === "skipped-locked") return;
    this.figures.runs++;
    const written = [...stored.values()].filter((image) => image.observedAt === run.snapshotAt);
    if (run.status === "failed") {
      this.figures.failedRuns++;
      if (run.writes > 0 || written.length > 0) {
        this.violations.push(`${source.id} run ${run.runId} failed (${run.error}) yet wrote ${run.writes} items (${written.length} carry its snapshot time)`);
      }
      return;
    }
    if (run.heldRemovals) this.figures.heldRuns++;
    for (const image of written) {
      if (image.removedAt) continue;
      this.figures.written++;
      if (!wasUpstream(source.effects, image.upstreamId, before, after)) {
        this.violations.push(`${source.id} ${image.upstreamId}: written live by run ${run.runId} but not upstream during the round`);
        continue;
      }
      const steady = steadyImage(source.effects, image.upstreamId, before, after);
      if (!steady) continue;
      this.figures.exact++;
      if (steady.contentHash !== image.contentHash || !isDeepStrictEqual(image.raw, steady.raw)) {
        this.violations.push(`${source.id} ${image.upstreamId}: run ${run.runId} wrote content the image never had upstream`);
      }
    }
  }
}

/** In the catalog at some moment between the two samples. */
function wasUpstream(effects: EffectLedger, id: string, before: CatalogSample, after: CatalogSample): boolean {
  if (before.images.has(id) || after.images.has(id)) return true;
  return effects.onImage(id, before.at, after.at).some((effect) => arrivals.has(effect.kind));
}

/** The image, when it was the same in both samples and nothing was done to it in between. */
function steadyImage(effects: EffectLedger, id: string, before: CatalogSample, after: CatalogSample): NormalisedImage | undefined {
  const first = before.images.get(id);
  const last = after.images.get(id);
  if (!first || !last || first.contentHash !== last.contentHash) return undefined;
  return effects.onImage(id, before.at, after.at).length === 0 ? first : undefined;
}

const iso = (ms: number) => new Date(ms).toISOString();
