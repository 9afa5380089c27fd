/**
 * Scheduled syncs, in-process: one round calls the sync engine for a provider (as its scheduled function
 * does), with that round's listing faults in place, sampling the catalogs right before and after, then
 * checks invariant 1 for each of the provider's sources.
 */
import type { Provider } from "../../packages/core/resources";
import type { SyncRun } from "../../packages/store/runs";
import { syncProvider } from "../../packages/sync/engine";
import { readStoredImages, sample, type CatalogSample, type SoakSource, type StoredImage } from "./catalogs";
import type { FaultInjector } from "./faults";
import type { ListingInvariant } from "./listings";
import type { SoakStack } from "./stack";

/** What one source's part of a round saw: its run, the catalog after it and the inventory after it. */
export interface SourceRound {
  source: SoakSource;
  run: SyncRun;
  before: CatalogSample;
  after: CatalogSample;
  stored: Map<string, StoredImage>;
}

export class SyncRounds {
  /** Runs per `provider status`, e.g. `triton ok`. */
  readonly statuses = new Map<string, number>();

  constructor(
    private readonly stack: SoakStack,
    private readonly injector: FaultInjector,
    private readonly invariant: ListingInvariant,
  ) {}

  /** One sync of every source of `provider`; with `faults`, under this round's listing faults. */
  async round(provider: Provider, faults: boolean): Promise<SourceRound[]> {
    const sources = this.stack.sources.filter((source) => source.provider === provider);
    const removeFaults = faults ? this.injector.listingRound(provider) : () => undefined;
    const before = sources.map(sample);
    let runs: SyncRun[];
    try {
      runs = await syncProvider(provider, { deadline: Date.now() + 60_000, trigger: "schedule" }, this.stack.config);
    } finally {
      removeFaults();
    }
    const after = sources.map(sample);
    const rounds: SourceRound[] = [];
    for (const [index, source] of sources.entries()) {
      const run = runs.find((candidate) => candidate.sourceId === source.id);
      if (!run) throw new Error(`the ${provider} sync returned no run for ${source.id}`);
      const key = `${provider} ${run.status}`;
      this.statuses.set(key, (this.statuses.get(key) ?? 0) + 1);
      const stored = await readStoredImages(this.stack.table, source);
      const round = { source, run, before: before[index] as CatalogSample, after: after[index] as CatalogSample, stored };
      this.invariant.check(source, run, round.before, round.after, stored, Date.now());
      rounds.push(round);
    }
    return rounds;
  }
}
