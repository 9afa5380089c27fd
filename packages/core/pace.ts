/**
 * Spaces requests out to at most `perSecond` a second, evenly and with no burst, so that no one-second
 * window holds more: `const pace = pacer(400); ... await pace();` before each request. Callers that run
 * concurrently share one pacer; each call reserves the next free slot.
 */
export function pacer(perSecond: number): () => Promise<void> {
  if (!(perSecond > 0)) throw new RangeError(`pacer: perSecond must be a positive number, got ${perSecond}`);
  if (perSecond === Number.POSITIVE_INFINITY) return () => Promise.resolve();
  const interval = 1000 / perSecond;
  let nextSlot = 0;
  return () => {
    const now = performance.now();
    const slot = Math.max(now, nextSlot);
    nextSlot = slot + interval;
    return slot <= now ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, slot - now));
  };
}
