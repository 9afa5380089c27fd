/** A state-changing effect a simulator actually applied (not a request that was refused or faulted). */
export interface Effect {
  /** What was done, e.g. `create`, `clone`, `update`, `export`, `delete`, `copy`. */
  kind: string;
  /** What it was done to, the same for every repeat of one request (a Triton create: `name@version`). */
  key: string;
  /** The image the effect made, changed or removed. */
  imageId: string;
  /** Date.now() when it was applied. */
  at: number;
}

/**
 * Every effect a simulator applied, in order: proof that one job changed upstream once (a kind and key
 * recorded twice is a repeat), and when images appeared, changed and went.
 */
export class EffectLedger {
  readonly entries: Effect[] = [];
  readonly #counts = new Map<string, number>();

  record(kind: string, key: string, imageId: string): void {
    this.entries.push({ kind, key, imageId, at: Date.now() });
    const id = `${kind}\n${key}`;
    this.#counts.set(id, (this.#counts.get(id) ?? 0) + 1);
  }

  /** How many times `kind` was applied to `key`. */
  count(kind: string, key: string): number {
    return this.#counts.get(`${kind}\n${key}`) ?? 0;
  }

  /** The effects on one image applied between `from` and `to` (epoch ms, inclusive). */
  onImage(imageId: string, from: number, to: number): Effect[] {
    return this.entries.filter((effect) => effect.imageId === imageId && effect.at >= from && effect.at <= to);
  }
}
