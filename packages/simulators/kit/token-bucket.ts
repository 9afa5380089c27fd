export interface TokenBucketOptions {
  /** Bucket capacity: requests allowed in a burst. */
  burst: number;
  /** Tokens added per second. */
  rate: number;
  now?: () => number;
}

/**
 * One token bucket per key, like restify's throttle plugin: a bucket starts full, refills at
 * `rate` tokens per second up to `burst`, and each request takes one token.
 */
export class TokenBucketLimiter {
  private readonly buckets = new Map<string, { tokens: number; updatedAt: number }>();
  private readonly now: () => number;

  constructor(readonly options: TokenBucketOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Takes a token for `key`; false when the bucket is empty. */
  take(key: string): boolean {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.options.burst, updatedAt: now };
    bucket.tokens = Math.min(this.options.burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.options.rate);
    bucket.updatedAt = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
