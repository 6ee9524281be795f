/**
 * A bounded queue in front of JetStream publishes. It keeps up to `maxInFlight` publishes awaiting
 * acks (pipelining is what makes JetStream fast), retries failed publishes with backoff while NATS is
 * away, and reports when it is above its high-water mark so stream inputs can pause. An event is
 * counted as published only once JetStream acknowledged it, and as dropped when the queue is full.
 */
import type { PostfixEvent } from "../../../shared/src/contracts/events.js";
import { eventSubject } from "../../../shared/src/contracts/subjects.js";
import type { Logger } from "../../../shared/src/runtime/log.js";
import type { ReceiverMetrics } from "./metrics.js";

export type PublishFn = (subject: string, payload: Uint8Array) => Promise<unknown>;

export interface PublisherOptions {
  maxQueue: number;
  maxInFlight: number;
  retryDelayMs: number;
}

export class EventPublisher {
  private queue: PostfixEvent[] = [];
  private head = 0;
  private inFlight = 0;
  private retrying = false;
  private readonly roomListeners = new Set<() => void>();
  private readonly idleListeners = new Set<() => void>();
  private readonly encoder = new TextEncoder();

  constructor(
    private readonly publish: PublishFn,
    private readonly options: PublisherOptions,
    private readonly metrics: ReceiverMetrics,
    private readonly logger: Logger,
  ) {}

  /** Events queued or awaiting an ack. */
  get pending(): number {
    return this.queue.length - this.head + this.inFlight;
  }

  /** True above 3/4 of the queue: stream inputs should stop reading until `onRoom` fires. */
  get saturated(): boolean {
    return this.pending >= (this.options.maxQueue * 3) / 4;
  }

  /** Queues an event; returns false (and counts the drop) when the queue is full. */
  offer(event: PostfixEvent): boolean {
    if (this.pending >= this.options.maxQueue) {
      this.metrics.eventsDropped.labels("queue_full").inc();
      return false;
    }
    this.queue.push(event);
    this.pump();
    return true;
  }

  onRoom(listener: () => void): () => void {
    this.roomListeners.add(listener);
    return () => this.roomListeners.delete(listener);
  }

  /** Resolves once everything queued has been acknowledged (or dropped). */
  flushed(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.idleListeners.delete(done);
        resolve();
      };
      this.idleListeners.add(done);
    });
  }

  /** Gives up on whatever is still queued, counting it, for a shutdown that cannot wait longer. */
  abandon(): void {
    const left = this.queue.length - this.head;
    if (left > 0) this.metrics.eventsDropped.labels("shutdown").inc(left);
    this.queue = [];
    this.head = 0;
    this.settled();
  }

  private pump(): void {
    while (!this.retrying && this.inFlight < this.options.maxInFlight && this.head < this.queue.length) {
      const event = this.queue[this.head] as PostfixEvent;
      this.queue[this.head] = undefined as unknown as PostfixEvent;
      this.head++;
      this.inFlight++;
      this.publish(eventSubject(event.kind), this.encoder.encode(JSON.stringify(event))).then(
        () => {
          this.metrics.eventsPublished.labels(event.kind).inc();
          this.inFlight--;
          this.settled();
        },
        (error: Error) => {
          this.metrics.publishErrors.inc();
          this.inFlight--;
          this.requeue(event, error);
        },
      );
    }
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.metrics.queueLength.set(this.pending);
  }

  private requeue(event: PostfixEvent, error: Error): void {
    // Put it back at the front: order matters to the correlator more than to anyone else.
    this.queue.splice(this.head, 0, event);
    if (!this.retrying) {
      this.retrying = true;
      this.logger.warn({ error: error.message, pending: this.pending }, "JetStream publish failed; retrying");
      setTimeout(() => {
        this.retrying = false;
        this.pump();
      }, this.options.retryDelayMs).unref();
    }
  }

  private settled(): void {
    this.pump();
    if (!this.saturated) for (const listener of this.roomListeners) listener();
    if (this.pending === 0) for (const listener of [...this.idleListeners]) listener();
  }
}
