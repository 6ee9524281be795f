/**
 * Seen time, moved on by the caller's clock: the newest seen time (see DetectionPipeline) plus the
 * wall time elapsed since it was seen. It is the detector's clock while the detector keeps up and
 * the stream's while it reads a backlog, so a backlog read fast does not age keys faster than the
 * stream did.
 */
export class SeenClock {
  private lastSeenMs = Number.NEGATIVE_INFINITY;
  private lastSeenWallMs = 0;

  observe(seenMs: number, wallMs: number): void {
    if (seenMs > this.lastSeenMs) {
      this.lastSeenMs = seenMs;
      this.lastSeenWallMs = wallMs;
    }
  }

  /** Undefined until something has been seen: there is no time to move on from. */
  now(wallMs: number): number | undefined {
    if (this.lastSeenMs === Number.NEGATIVE_INFINITY) return undefined;
    return this.lastSeenMs + Math.max(0, wallMs - this.lastSeenWallMs);
  }
}
