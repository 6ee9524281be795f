/**
 * Delivers alerts to every configured sink exactly once as far as it can tell: a redelivered alert
 * skips the sinks that already accepted it, and an alert already delivered (same fingerprint, state
 * and start) within the dedup window is not sent again. Alerts come in batches so a sink that
 * groups (Slack) posts one message for an attack wave instead of one per attacker; a sink that does
 * not (the generic webhook) still gets one request per alert. Retries back off exponentially, or as
 * long as the sink's Retry-After asks.
 */
import { type Alert, alertIdentity } from "../../../shared/src/contracts/alerts.js";
import type { PostOutcome } from "./http-sink.js";

export interface Sink {
  /** Bounded: slack, webhook, log. Used as a metric label. */
  readonly name: string;
  /** grouped: one request carries a whole batch; each: one request per alert. */
  readonly grouping: "grouped" | "each";
  send(alerts: readonly Alert[]): Promise<PostOutcome>;
}

export interface Delivery {
  alert: Alert;
  /** 1 for the first delivery of this alert message, 2 for its first retry, ... */
  attempt: number;
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

/** What one alert of a batch has gone through so far. */
interface Attempt {
  delivery: Delivery;
  identity: string;
  done: Set<string>;
  reasons: string[];
  retryAfterMs: number;
  permanent: boolean;
}

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

  /** One outcome per delivery, in order. */
  async dispatch(batch: readonly Delivery[]): Promise<DispatchOutcome[]> {
    const now = this.options.now();
    this.forgetExpired(now);
    const outcomes: (DispatchOutcome | Attempt)[] = [];
    const seen = new Set<string>();
    for (const delivery of batch) {
      const identity = alertIdentity(delivery.alert);
      if (this.delivered.has(identity) || seen.has(identity)) {
        outcomes.push({ type: "duplicate" });
        continue;
      }
      seen.add(identity);
      const done = this.partial.get(identity) ?? new Set<string>();
      outcomes.push({ delivery, identity, done, reasons: [], retryAfterMs: 0, permanent: false });
    }
    const attempts = outcomes.filter((o): o is Attempt => "delivery" in o);
    for (const sink of this.sinks) {
      const owed = attempts.filter((a) => !a.done.has(sink.name));
      if (owed.length === 0) continue;
      const requests = sink.grouping === "grouped" ? [owed] : owed.map((a) => [a]);
      for (const group of requests) {
        const started = performance.now();
        const outcome = await sink.send(group.map((a) => a.delivery.alert));
        this.observer.sinkResult(sink.name, outcome.type, (performance.now() - started) / 1000);
        for (const attempt of group) record(attempt, sink.name, outcome);
      }
    }
    return outcomes.map((o) => ("delivery" in o ? this.conclude(o, now) : o));
  }

  private conclude(attempt: Attempt, now: number): DispatchOutcome {
    const { identity, reasons } = attempt;
    if (reasons.length === 0) {
      this.partial.delete(identity);
      this.remember(identity, now);
      return { type: "delivered" };
    }
    if (attempt.permanent || attempt.delivery.attempt >= this.options.maxAttempts) {
      this.partial.delete(identity);
      return { type: "failed", reasons };
    }
    this.partial.set(identity, attempt.done);
    const backoff = Math.min(
      this.options.maxRetryDelayMs,
      this.options.baseRetryDelayMs * 2 ** (attempt.delivery.attempt - 1),
    );
    return { type: "retry", delayMs: Math.max(backoff, attempt.retryAfterMs), reasons };
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

function record(attempt: Attempt, sink: string, outcome: PostOutcome): void {
  if (outcome.type === "delivered") {
    attempt.done.add(sink);
    return;
  }
  attempt.reasons.push(`${sink}: ${outcome.reason}`);
  if (outcome.type === "permanent") attempt.permanent = true;
  else attempt.retryAfterMs = Math.max(attempt.retryAfterMs, outcome.retryAfterMs ?? 0);
}
