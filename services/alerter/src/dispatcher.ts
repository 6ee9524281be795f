/**
 * Delivers each alert to every configured sink exactly once as far as it can tell: a redelivered
 * alert skips the sinks that already accepted it, and an alert already delivered (same fingerprint,
 * state and start) within the dedup window is not sent again. Retries back off exponentially, or as
 * long as the sink's Retry-After asks.
 */
import { type Alert, alertIdentity } from "../../../shared/src/contracts/alerts.js";
import type { PostOutcome } from "./http-sink.js";

export interface Sink {
  /** Bounded: slack, webhook, log. Used as a metric label. */
  readonly name: string;
  send(alert: Alert): Promise<PostOutcome>;
}

export type DispatchOutcome =
  | { type: "delivered" }
  | { type: "duplicate" }
  | { type: "retry"; delayMs: number; reasons: string[] }
  | { type: "failed"; reasons: string[] };

export interface DispatcherOptions {
  dedupWindowMs: number;
  maxAttempts: number;
  baseRetryDelayMs: number;
  maxRetryDelayMs: number;
  now: () => number;
}

export interface DispatchObserver {
  sinkResult(sink: string, outcome: PostOutcome["type"], seconds: number): void;
}

const MAX_REMEMBERED = 10_000;

export class AlertDispatcher {
  /** Fully delivered alerts → when; insertion-ordered so the oldest is evicted first. */
  private readonly delivered = new Map<string, number>();
  /** Sinks that accepted an alert still owed to others. */
  private readonly partial = new Map<string, Set<string>>();

  constructor(
    private readonly sinks: readonly Sink[],
    private readonly options: DispatcherOptions,
    private readonly observer: DispatchObserver,
  ) {}

  /** `attempt` is 1 for the first delivery of this alert message, 2 for its first retry, ... */
  async dispatch(alert: Alert, attempt: number): Promise<DispatchOutcome> {
    const identity = alertIdentity(alert);
    const now = this.options.now();
    this.forgetExpired(now);
    if (this.delivered.has(identity)) return { type: "duplicate" };

    const done = this.partial.get(identity) ?? new Set<string>();
    const reasons: string[] = [];
    let retryAfterMs = 0;
    let permanent = false;
    for (const sink of this.sinks) {
      if (done.has(sink.name)) continue;
      const started = performance.now();
      const outcome = await sink.send(alert);
      this.observer.sinkResult(sink.name, outcome.type, (performance.now() - started) / 1000);
      if (outcome.type === "delivered") {
        done.add(sink.name);
        continue;
      }
      reasons.push(`${sink.name}: ${outcome.reason}`);
      if (outcome.type === "permanent") permanent = true;
      else retryAfterMs = Math.max(retryAfterMs, outcome.retryAfterMs ?? 0);
    }

    if (reasons.length === 0) {
      this.partial.delete(identity);
      this.remember(identity, now);
      return { type: "delivered" };
    }
    if (permanent || attempt >= this.options.maxAttempts) {
      this.partial.delete(identity);
      return { type: "failed", reasons };
    }
    this.partial.set(identity, done);
    const backoff = Math.min(
      this.options.maxRetryDelayMs,
      this.options.baseRetryDelayMs * 2 ** (attempt - 1),
    );
    return { type: "retry", delayMs: Math.max(backoff, retryAfterMs), reasons };
  }

  private remember(identity: string, now: number): void {
    this.delivered.set(identity, now);
    if (this.delivered.size > MAX_REMEMBERED) {
      const oldest = this.delivered.keys().next().value;
      if (oldest !== undefined) this.delivered.delete(oldest);
    }
  }

  private forgetExpired(now: number): void {
    for (const [identity, at] of this.delivered) {
      if (now - at < this.options.dedupWindowMs) break;
      this.delivered.delete(identity);
    }
  }
}
