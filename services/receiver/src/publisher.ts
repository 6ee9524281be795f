/**
 * A bounded queue in front of JetStream publishes. Events are gathered into batches, one open batch
 * per event partition (a mail host's events all fall in one, contracts/partitions.ts), each sent on
 * its partition's subject once it holds `maxBatchEvents` events or `maxBatchChars` characters of
 * JSON, or `flushMs` after its first event; each batch is sealed with a sequence number and a
 * message ID of its own, and up to `maxInFlight` batches, of any partitions, await their acks
 * (pipelining is what makes JetStream fast).
 *
 * A batch whose publish fails is retried whole, with the same ID, so JetStream stores it once even
 * when only its ack was lost; and it goes back before every batch sealed after it, so each mail
 * server's lines reach the stream in the order they were read (the correlator depends on it). An
 * event counts as published only once JetStream acknowledged its batch, and as dropped when the
 * queue is full. `maxQueue` bounds the events held in all partitions together, open batches
 * included, so more partitions do not multiply the memory a NATS outage can take. The publisher
 * reports when it is above its high-water mark so stream inputs can pause.
 */

import type { BatchWriter } from "../../../shared/src/contracts/batch-writer.js";
import { eventBatchWriter } from "../../../shared/src/contracts/event-batch.js";
import type { EventKind, PostfixEvent } from "../../../shared/src/contracts/events.js";
import { eventPartition } from "../../../shared/src/contracts/partitions.js";
import { eventBatchSubject } from "../../../shared/src/contracts/subjects.js";
import type { Logger } from "../../../shared/src/runtime/log.js";
import type { ReceiverMetrics } from "./metrics.js";

export interface PublishAck {
  /** JetStream had stored a message with this ID already (within its duplicate window). */
  duplicate?: boolean;
}

export type PublishFn = (subject: string, payload: Uint8Array, messageId: string) => Promise<PublishAck>;

export interface PublisherOptions {
  /** Events held at most, in all partitions together: in an open batch, sealed, or awaiting an ack. */
  maxQueue: number;
  /** EVENT_PARTITIONS: batches are per partition, on `postwatch.events.batch.<p>`. */
  partitions: number;
  /** Batches awaiting an ack at once. */
  maxInFlight: number;
  retryDelayMs: number;
  maxBatchEvents: number;
  /** A bound on the batch's JSON, in UTF-16 characters: three bytes each at worst, under NATS's 1 MiB payload. */
  maxBatchChars: number;
  /** How long the first event of a batch waits for others. */
  flushMs: number;
  /** Unique to this publisher's lifetime: batch IDs are `<producerId>.<sequence>`. */
  producerId: string;
}

/** The batch one partition is filling; kept and refilled, one per partition that had an event. */
interface OpenBatch {
  readonly partition: number;
  readonly writer: BatchWriter;
  kinds: Map<EventKind, number>;
  flushTimer: NodeJS.Timeout | undefined;
}

interface SealedBatch {
  readonly sequence: number;
  readonly partition: number;
  readonly payload: Uint8Array;
  readonly events: number;
  readonly kinds: ReadonlyMap<EventKind, number>;
}

export class EventPublisher {
  /** By partition. */
  private readonly open: (OpenBatch | undefined)[] = [];
  private openEvents = 0;
  private readonly subjects: readonly string[];
  /** Sealed batches not in flight, in sequence order, from `head` on. */
  private ready: SealedBatch[] = [];
  private head = 0;
  private readyEvents = 0;
  private inFlightBatches = 0;
  private inFlightEvents = 0;
  private nextSequence = 0;
  private retrying = false;
  private abandoned = false;
  private readonly roomListeners = new Set<() => void>();
  private readonly idleListeners = new Set<() => void>();

  constructor(
    private readonly publish: PublishFn,
    private readonly options: PublisherOptions,
    private readonly metrics: ReceiverMetrics,
    private readonly logger: Logger,
  ) {
    this.subjects = Array.from({ length: options.partitions }, (_, partition) =>
      eventBatchSubject(partition),
    );
    metrics.watchPublishQueue(() => this.pending);
  }

  /** Events queued or awaiting an ack. */
  get pending(): number {
    return this.openEvents + this.readyEvents + this.inFlightEvents;
  }

  /** True above 3/4 of the queue: stream inputs should stop reading until `onRoom` fires. */
  get saturated(): boolean {
    return this.pending >= (this.options.maxQueue * 3) / 4;
  }

  /** Queues an event; returns false (and counts the drop) when the queue is full. */
  offer(event: PostfixEvent): boolean {
    if (this.pending >= this.options.maxQueue || this.abandoned) {
      this.metrics.eventsDropped.labels(this.abandoned ? "shutdown" : "queue_full").inc();
      return false;
    }
    const json = JSON.stringify(event);
    const partition = eventPartition(event.host, this.options.partitions);
    const batch = this.open[partition] ?? this.opened(partition);
    const { writer } = batch;
    if (writer.items > 0 && writer.chars + json.length + 1 > this.options.maxBatchChars) this.seal(batch);
    writer.append(json);
    batch.kinds.set(event.kind, (batch.kinds.get(event.kind) ?? 0) + 1);
    this.openEvents++;
    if (writer.items >= this.options.maxBatchEvents) this.seal(batch);
    else if (batch.flushTimer === undefined) {
      batch.flushTimer = setTimeout(() => this.seal(batch), this.options.flushMs);
      batch.flushTimer.unref();
    }
    return true;
  }

  onRoom(listener: () => void): () => void {
    this.roomListeners.add(listener);
    return () => this.roomListeners.delete(listener);
  }

  /** Sends the open batches now, and resolves once everything queued has been acknowledged (or dropped). */
  flushed(): Promise<void> {
    for (const batch of this.open) if (batch) this.seal(batch);
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.idleListeners.delete(done);
        resolve();
      };
      this.idleListeners.add(done);
    });
  }

  /**
   * Gives up on whatever is not yet in flight, counting it, for a shutdown that cannot wait longer;
   * batches still in flight that fail from here on are counted as dropped rather than retried.
   */
  abandon(): void {
    this.abandoned = true;
    const left = this.openEvents + this.readyEvents;
    if (left > 0) this.metrics.eventsDropped.labels("shutdown").inc(left);
    for (const batch of this.open) if (batch) this.take(batch);
    this.ready = [];
    this.head = 0;
    this.readyEvents = 0;
    this.settled();
  }

  private seal(open: OpenBatch): void {
    if (open.writer.items === 0) return;
    const { payload, events, kinds } = this.take(open);
    const batch: SealedBatch = {
      sequence: this.nextSequence++,
      partition: open.partition,
      payload,
      events,
      kinds,
    };
    this.ready.push(batch);
    this.readyEvents += batch.events;
    this.pump();
  }

  private opened(partition: number): OpenBatch {
    const batch: OpenBatch = {
      partition,
      writer: eventBatchWriter(),
      kinds: new Map(),
      flushTimer: undefined,
    };
    this.open[partition] = batch;
    return batch;
  }

  /** Empties an open batch, returning what it held. */
  private take(open: OpenBatch): { payload: Uint8Array; events: number; kinds: Map<EventKind, number> } {
    clearTimeout(open.flushTimer);
    const { writer, kinds } = open;
    const events = writer.items;
    this.openEvents -= events;
    open.flushTimer = undefined;
    open.kinds = new Map();
    return { payload: writer.take(), events, kinds };
  }

  private pump(): void {
    while (
      !this.retrying &&
      this.inFlightBatches < this.options.maxInFlight &&
      this.head < this.ready.length
    ) {
      const batch = this.ready[this.head] as SealedBatch;
      this.ready[this.head] = undefined as unknown as SealedBatch;
      this.head++;
      this.readyEvents -= batch.events;
      this.inFlightBatches++;
      this.inFlightEvents += batch.events;
      const subject = this.subjects[batch.partition] as string;
      this.publish(subject, batch.payload, `${this.options.producerId}.${batch.sequence}`).then(
        (ack) => {
          this.landed(batch);
          if (ack.duplicate) this.metrics.publishDuplicates.inc();
          for (const [kind, count] of batch.kinds) this.metrics.eventsPublished.labels(kind).inc(count);
          this.settled();
        },
        (error: Error) => {
          this.landed(batch);
          this.metrics.publishErrors.inc();
          if (this.abandoned) {
            this.metrics.eventsDropped.labels("shutdown").inc(batch.events);
            this.settled();
          } else this.requeue(batch, error);
        },
      );
    }
    if (this.head > 1024 && this.head * 2 > this.ready.length) {
      this.ready = this.ready.slice(this.head);
      this.head = 0;
    }
  }

  private landed(batch: SealedBatch): void {
    this.inFlightBatches--;
    this.inFlightEvents -= batch.events;
  }

  private requeue(batch: SealedBatch, error: Error): void {
    // Back before every batch sealed after it, wherever the failures arrive from.
    let low = this.head;
    let high = this.ready.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.ready[middle] as SealedBatch).sequence < batch.sequence) low = middle + 1;
      else high = middle;
    }
    this.ready.splice(low, 0, batch);
    this.readyEvents += batch.events;
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
