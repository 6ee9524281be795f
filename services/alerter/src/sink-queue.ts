/**
 * One destination's queue: its alerts, in the order they came, delivered by a retry loop of its
 * own, so that a slow or hanging destination delays nothing but itself. Alerts arriving together
 * are grouped for a moment (ALERTER_GROUP_WAIT_MS) for a destination that takes a batch in one
 * request. Before a request, the delivery log is asked what the destination already took: a copy
 * is dropped as a duplicate, and a resolved notice whose firing alert never went there is dropped
 * too. Retries back off exponentially, or as long as the destination's Retry-After asks, and stop
 * after ALERTER_MAX_ATTEMPTS or a permanent refusal.
 */
import { type Alert, alertIdentity } from "../../../shared/src/contracts/alerts.js";
import { Batcher } from "./batcher.js";
import type { DeliveryLog } from "./delivery-log.js";
import type { PostOutcome } from "./http-sink.js";
import type { Sink } from "./sinks.js";

/** How an alert's delivery to one destination ended. */
export type SinkOutcome =
  | { type: "delivered" }
  | { type: "duplicate" }
  /** Routing: the destination does not take this severity or rule. */
  | { type: "filtered" }
  /** A resolved notice for an alert this destination was never sent as firing. */
  | { type: "resolved_unseen" }
  | { type: "failed"; reasons: string[]; attempts: number }
  /** The delivery log could not be read: the alert is to be handed out again later. */
  | { type: "deferred"; reason: string };

export interface QueuedAlert {
  alert: Alert;
  /** Called once, when the destination is done with the alert; never for one left at a stop. */
  settle(outcome: SinkOutcome): void;
}

export interface SinkQueueOptions {
  groupWaitMs: number;
  groupMax: number;
  maxAttempts: number;
  baseRetryDelayMs: number;
  maxRetryDelayMs: number;
}

export interface SinkQueueObserver {
  request(outcome: PostOutcome["type"], seconds: number): void;
  retry(alerts: readonly Alert[], reasons: string[], delayMs: number): void;
  /** The destination took the alerts but the record of it failed (retried until stored): a crash now would resend them. */
  recordFailed(error: unknown): void;
}

export class SinkQueue {
  private readonly batcher: Batcher<QueuedAlert>;
  private readonly stopping = new AbortController();

  constructor(
    private readonly sink: Sink,
    private readonly log: DeliveryLog,
    private readonly options: SinkQueueOptions,
    private readonly observer: SinkQueueObserver,
  ) {
    const grouped = sink.grouping === "grouped";
    this.batcher = new Batcher(
      grouped ? options.groupWaitMs : 0,
      grouped ? options.groupMax : 1,
      (batch) => this.deliver(batch),
      // deliver() settles or leaves every alert; an error here is a bug: the alerts stay unsettled
      // and JetStream hands them out again.
      () => undefined,
    );
  }

  add(queued: QueuedAlert): void {
    if (!this.sink.accepts(queued.alert)) queued.settle({ type: "filtered" });
    else this.batcher.add(queued);
  }

  /** Stops retrying; what is not delivered yet stays unsettled. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.batcher.drain();
  }

  private async deliver(batch: QueuedAlert[]): Promise<void> {
    const owed: QueuedAlert[] = [];
    const seen = new Set<string>();
    for (const queued of batch) {
      if (this.stopping.signal.aborted) return;
      const identity = alertIdentity(queued.alert);
      const verdict = seen.has(identity) ? "duplicate" : await this.check(queued);
      if (verdict === "owed") {
        seen.add(identity);
        owed.push(queued);
      } else if (verdict !== "deferred") {
        queued.settle({ type: verdict });
      }
    }
    const requests = this.sink.grouping === "grouped" ? [owed] : owed.map((queued) => [queued]);
    for (const request of requests) if (request.length > 0) await this.deliverWithRetries(request);
  }

  /** What the delivery log says of an alert; "deferred" (settled here) when it cannot be read. */
  private async check(queued: QueuedAlert): Promise<"owed" | "duplicate" | "resolved_unseen" | "deferred"> {
    const { alert } = queued;
    try {
      if (await this.log.has(this.sink.name, alert)) return "duplicate";
      if (alert.state === "resolved" && !(await this.log.has(this.sink.name, { ...alert, state: "firing" })))
        return "resolved_unseen";
      return "owed";
    } catch (error) {
      queued.settle({ type: "deferred", reason: (error as Error).message });
      return "deferred";
    }
  }

  private async deliverWithRetries(request: QueuedAlert[]): Promise<void> {
    const alerts = request.map((queued) => queued.alert);
    for (let attempt = 1; !this.stopping.signal.aborted; attempt++) {
      const started = performance.now();
      const outcome = await this.sink.send(alerts, this.stopping.signal);
      this.observer.request(outcome.type, (performance.now() - started) / 1000);
      // A request cut short by a stop leaves its alerts to the next start.
      if (outcome.type !== "delivered" && this.stopping.signal.aborted) return;
      if (outcome.type === "delivered") {
        await this.recordUntilStored(alerts);
        for (const queued of request) queued.settle({ type: "delivered" });
        return;
      }
      const reasons = [`${this.sink.name}: ${outcome.reason}`];
      if (outcome.type === "permanent" || attempt >= this.options.maxAttempts) {
        for (const queued of request) queued.settle({ type: "failed", reasons, attempts: attempt });
        return;
      }
      const delayMs = Math.max(this.backoffMs(attempt), outcome.retryAfterMs ?? 0);
      this.observer.retry(alerts, reasons, delayMs);
      await sleep(delayMs, this.stopping.signal);
    }
  }

  /**
   * Records what the destination took, retrying (with the retry back-off) until the log stores it:
   * the alerts are settled, so acked, only after that, or a redelivery (an ack lost with a NATS
   * node) would find no record and send them again. Given up only at a stop, said through
   * recordFailed: the alerts are settled then, and a restart may send them again.
   */
  private async recordUntilStored(alerts: readonly Alert[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.log.record(this.sink.name, alerts);
        return;
      } catch (error) {
        this.observer.recordFailed(error);
        if (this.stopping.signal.aborted) return;
        await sleep(this.backoffMs(attempt), this.stopping.signal);
      }
    }
  }

  private backoffMs(attempt: number): number {
    return Math.min(this.options.maxRetryDelayMs, this.options.baseRetryDelayMs * 2 ** (attempt - 1));
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
