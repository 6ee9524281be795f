/**
 * bounce_storm's hook: null-sender messages must be many AND a large share of the host's mail in
 * the window. A mailing list host bounces a little all day; backscatter or a spam run turns a
 * host's traffic into mostly bounces.
 */
import { z } from "zod";
import type { PostfixEvent } from "../../../../shared/src/contracts/events.js";
import { defineExtension, type ExtensionState, type KeyMeasures } from "../engine/extension.js";
import { NO_BUCKETS, SlidingWindow } from "../engine/sliding-window.js";

const params = { minShare: z.number().positive().max(1).default(0.3) };

class TrafficState implements ExtensionState {
  private all = NO_BUCKETS;

  constructor(
    private readonly minShare: number,
    private readonly window: SlidingWindow,
  ) {}

  observe(_event: PostfixEvent, _context: unknown, atMs: number): void {
    this.all = this.window.add(this.all, atMs, 1) ?? this.all;
  }

  fires({ atMs, count, threshold }: KeyMeasures): boolean {
    return count >= threshold && count / Math.max(1, this.window.total(this.all, atMs)) >= this.minShare;
  }

  facts(atMs: number) {
    const all = this.window.total(this.all, atMs);
    return { messages: all };
  }
}

export const trafficShare = defineExtension({
  name: "trafficShare",
  params,
  factNames: ["messages"],
  bind(settings, windowMs) {
    const window = new SlidingWindow(windowMs);
    return { newState: () => new TrafficState(settings.minShare, window), retentionMs: windowMs };
  },
});
