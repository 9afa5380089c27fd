import { createHash } from "node:crypto";

export interface ListingDropOptions {
  /** How many listing answers drop images. Default 1. */
  times?: number;
  /** Share of the images dropped, 0..1. Default 0.5. */
  share?: number;
  /** Which images: the same salt drops the same images every time. Default "drop". */
  salt?: string;
  /** Which listing answers may drop images, by their query, e.g. only unfiltered ones. Default: every one. */
  appliesTo?: (query: URLSearchParams) => boolean;
}

/**
 * A partial listing that looks whole: the next `times` listing answers leave out a share of the images,
 * chosen by a hash of their id and `salt`, so repeated drops with one salt leave out the same images.
 * The answer stays consistent (a count in the body counts what is returned).
 */
export class ListingDrop {
  private remaining = 0;
  private share = 0;
  private salt = "";
  private appliesTo: (query: URLSearchParams) => boolean = () => true;
  /** Listing answers that dropped images so far. */
  applied = 0;

  set(options: ListingDropOptions = {}): void {
    this.remaining = options.times ?? 1;
    this.share = options.share ?? 0.5;
    this.salt = options.salt ?? "drop";
    this.appliesTo = options.appliesTo ?? (() => true);
  }

  /** The listing as this answer returns it (and one use of the drop, when one is pending and applies). */
  apply<T>(items: T[], idOf: (item: T) => string, query: URLSearchParams = new URLSearchParams()): T[] {
    if (this.remaining <= 0 || !this.appliesTo(query)) return items;
    this.remaining -= 1;
    this.applied += 1;
    return items.filter((item) => !this.drops(idOf(item)));
  }

  private drops(id: string): boolean {
    const bucket = createHash("sha256").update(`${this.salt}\n${id}`).digest().readUInt32BE(0) / 2 ** 32;
    return bucket < this.share;
  }
}
