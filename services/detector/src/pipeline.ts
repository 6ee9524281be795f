/**
 * The detector's pure core: correlation (sessions, queue IDs) feeding the rule engine, on event
 * time. The live service and `postwatch replay` both drive this one class, which is why a replayed
 * log gives the alerts the live run gave.
 *
 * Two clocks, both passed in. Event time (each line's own `ts`) places events in rule windows.
 * Seen time (when the pipeline's source received the event: JetStream's storage time, bounded by
 * the detector's clock, live; the event time itself in a replay) decides when a key is idle, when
 * an attack has gone quiet and when the correlator gives up on a message. So a mail server's clock,
 * right, slow or forged, only ever places its own lines: it cannot expire anyone's windows or
 * resolve anyone's alert, and a line dated further ahead of its seen time than `maxAheadMs` is
 * counted and placed at that bound.
 */
import type { Alert } from "../../../shared/src/contracts/alerts.js";
import type { PostfixEvent } from "../../../shared/src/contracts/events.js";
import { Correlator, type CorrelatorOptions } from "../../../shared/src/postfix/correlate.js";
import { DetectionEngine, type EngineStats } from "./engine/engine.js";
import type { CompiledRule } from "./engine/rule.js";
import type { KeyOwnership } from "./engine/rule-tracker.js";

/** The live detector ticks once a second; a replay ticks whenever event time has moved on as much. */
export const TICK_MS = 1000;

/** @default 60 s: how far ahead of its arrival a line's own time is believed. */
export const DEFAULT_MAX_AHEAD_MS = 60_000;

export interface PipelineOptions {
  rules: readonly CompiledRule[];
  maxKeysPerRule?: number;
  /** The share of rule keys this detector replica owns (all by default). */
  ownsKey?: KeyOwnership;
  /** `summarizeAt` defaults to `first_pass` here: a message left queued by deferrals reaches the rules at once. */
  correlator?: Partial<CorrelatorOptions>;
  /** Event times later than seen time plus this are clamped to it (and counted). */
  maxAheadMs?: number;
}

export interface PipelineOutput {
  /** The input event (possibly enriched from its session) and any message summaries it completed. */
  events: PostfixEvent[];
  alerts: Alert[];
}

export interface PipelineStats {
  engine: EngineStats;
  correlator: ReturnType<Correlator["stats"]>;
  /** Events dated more than `maxAheadMs` after they were seen, placed at that bound instead. */
  clampedEvents: number;
}

export class DetectionPipeline {
  private readonly correlator: Correlator;
  private readonly engine: DetectionEngine;
  private readonly maxAheadMs: number;
  /** Seen time of the newest event, and the caller's clock when it was processed. */
  private lastSeenMs = Number.NEGATIVE_INFINITY;
  private lastSeenWallMs = 0;
  private clampedEvents = 0;

  constructor(options: PipelineOptions) {
    this.correlator = new Correlator({ summarizeAt: "first_pass", ...options.correlator });
    this.engine = new DetectionEngine({
      rules: options.rules,
      maxKeysPerRule: options.maxKeysPerRule,
      ownsKey: options.ownsKey,
    });
    this.maxAheadMs = options.maxAheadMs ?? DEFAULT_MAX_AHEAD_MS;
  }

  /**
   * `seenMs` is when the event was received (see the class comment); `wallMs` the caller's clock as
   * it processes it (they differ while a backlog is read); `eventMs` is `Date.parse(event.ts)`, for
   * callers that parsed it already.
   */
  process(
    event: PostfixEvent,
    seenMs: number,
    wallMs: number = seenMs,
    eventMs: number = Date.parse(event.ts),
  ): PipelineOutput {
    const alerts: Alert[] = [];
    const events = this.processInto(event, seenMs, wallMs, eventMs, alerts);
    return { events, alerts };
  }

  /** process(), appending the alerts to `alerts` rather than allocating an output per event. */
  processInto(
    event: PostfixEvent,
    seenMs: number,
    wallMs: number,
    eventMs: number,
    alerts: Alert[],
  ): PostfixEvent[] {
    if (seenMs > this.lastSeenMs) {
      this.lastSeenMs = seenMs;
      this.lastSeenWallMs = wallMs;
    }
    const events = this.correlator.push(event, seenMs);
    // The first output is the input event (perhaps enriched), with its ts; summaries have their own.
    for (let i = 0; i < events.length; i++) {
      const output = events[i] as PostfixEvent;
      const atMs = this.placed(i === 0 ? eventMs : Date.parse(output.ts), seenMs);
      for (const alert of this.engine.process(output, atMs, seenMs)) alerts.push(alert);
    }
    return events;
  }

  /**
   * Moves time forward without an event: resolves quiet keys and evicts stale correlation state.
   * Pipeline time is the newest seen time plus the wall time elapsed since it was processed: the
   * detector's clock while it keeps up, the stream's while it reads a backlog.
   */
  tick(wallMs: number): PipelineOutput {
    if (this.lastSeenMs === Number.NEGATIVE_INFINITY) return { events: [], alerts: [] };
    const nowMs = this.lastSeenMs + Math.max(0, wallMs - this.lastSeenWallMs);
    const events = this.correlator.sweep(nowMs);
    const alerts: Alert[] = [];
    for (const output of events)
      alerts.push(...this.engine.process(output, this.placed(Date.parse(output.ts), nowMs), nowMs));
    alerts.push(...this.engine.advance(nowMs));
    return { events, alerts };
  }

  /** Learns a successful login into the login history only (warm-up of history older than the windows). */
  learnLogin(event: PostfixEvent): void {
    this.engine.learnLogin(event);
  }

  /** End of a finite input (replay): flush open messages so their summaries reach the rules. */
  flush(): PipelineOutput {
    const events = this.correlator.sweep(Number.POSITIVE_INFINITY);
    const alerts: Alert[] = [];
    for (const output of events) alerts.push(...this.engine.process(output));
    return { events, alerts };
  }

  stats(): PipelineStats {
    return {
      engine: this.engine.stats(),
      correlator: this.correlator.stats(),
      clampedEvents: this.clampedEvents,
    };
  }

  /** An event's time in the rule windows: its own, unless that is further ahead of `seenMs` than allowed. */
  private placed(eventMs: number, seenMs: number): number {
    const latestMs = seenMs + this.maxAheadMs;
    if (!(eventMs > latestMs)) return eventMs;
    this.clampedEvents += 1;
    return latestMs;
  }
}

/**
 * Drives a pipeline through a finite log on event time, as the live detector would have run it:
 * a tick whenever event time has advanced TICK_MS since the last one (live ticks once a wall-clock
 * second), each event processed at its own time, open messages flushed at the end. `postwatch
 * replay` and the benchmark share it.
 */
export class EventTimeReplay {
  readonly alerts: Alert[] = [];
  /** The event time each of `alerts` (same index) was raised at: when the live detector would have sent it. */
  readonly raisedAtMs: number[] = [];
  readonly #pipeline: DetectionPipeline;
  #nextTickMs = Number.NEGATIVE_INFINITY;
  #nowMs = Number.NaN;

  constructor(pipeline: DetectionPipeline) {
    this.#pipeline = pipeline;
  }

  /**
   * `atMs` is `Date.parse(event.ts)`, for callers that have it already; `seenMs` is when the event
   * was received, when known (a detector rebuilding its state), else its own time.
   */
  push(event: PostfixEvent, atMs: number = Date.parse(event.ts), seenMs: number = atMs): void {
    // "Now" for raisedAtMs is the newest event time: a line stamped out of order does not move it back.
    if (atMs > this.#nowMs || Number.isNaN(this.#nowMs)) this.#nowMs = atMs;
    // An unparseable ts (NaN) never ticks: it cannot move time.
    if (seenMs >= this.#nextTickMs) {
      this.#collect(this.#pipeline.tick(seenMs));
      this.#nextTickMs = seenMs + TICK_MS;
    }
    this.#pipeline.processInto(event, seenMs, seenMs, atMs, this.alerts);
    this.#stamp();
  }

  /** End of input: returns every alert, those the flushed message summaries raised included. */
  finish(): Alert[] {
    this.#collect(this.#pipeline.flush());
    return this.alerts;
  }

  #collect(output: PipelineOutput): void {
    for (const alert of output.alerts) this.alerts.push(alert);
    this.#stamp();
  }

  #stamp(): void {
    while (this.raisedAtMs.length < this.alerts.length) this.raisedAtMs.push(this.#nowMs);
  }
}
