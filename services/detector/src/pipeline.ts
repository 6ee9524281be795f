/**
 * The detector's pure core: correlation (sessions, queue IDs) feeding the rule engine, on event
 * time. The live service and `postwatch replay` both drive this one class, which is why a replayed
 * log gives the alerts the live run gave.
 */
import type { Alert } from "../../../shared/src/contracts/alerts.js";
import type { PostfixEvent } from "../../../shared/src/contracts/events.js";
import { Correlator, type CorrelatorOptions } from "../../../shared/src/postfix/correlate.js";
import { DetectionEngine, type EngineStats } from "./engine/engine.js";
import type { CompiledRule } from "./engine/rule.js";
import type { KeyOwnership } from "./engine/rule-tracker.js";

/** The live detector ticks once a second; a replay ticks whenever event time has moved on as much. */
export const TICK_MS = 1000;

export interface PipelineOptions {
  rules: readonly CompiledRule[];
  maxKeysPerRule?: number;
  /** The share of rule keys this detector replica owns (all by default). */
  ownsKey?: KeyOwnership;
  /** `summarizeAt` defaults to `first_pass` here: a message left queued by deferrals reaches the rules at once. */
  correlator?: Partial<CorrelatorOptions>;
}

export interface PipelineOutput {
  /** The input event (possibly enriched from its session) and any message summaries it completed. */
  events: PostfixEvent[];
  alerts: Alert[];
}

export class DetectionPipeline {
  private readonly correlator: Correlator;
  private readonly engine: DetectionEngine;
  /** Event time of the newest event, and the caller's wall clock when it arrived. */
  private lastEventMs = Number.NEGATIVE_INFINITY;
  private lastEventWallMs = 0;

  constructor(options: PipelineOptions) {
    this.correlator = new Correlator({ summarizeAt: "first_pass", ...options.correlator });
    this.engine = new DetectionEngine({
      rules: options.rules,
      maxKeysPerRule: options.maxKeysPerRule,
      ownsKey: options.ownsKey,
    });
  }

  /**
   * `wallMs` is the caller's clock at arrival (live) or the event's own time (replay); `eventMs` is
   * `Date.parse(event.ts)`, for callers that parsed it already.
   */
  process(event: PostfixEvent, wallMs: number, eventMs: number = Date.parse(event.ts)): PipelineOutput {
    const alerts: Alert[] = [];
    const events = this.processInto(event, wallMs, eventMs, alerts);
    return { events, alerts };
  }

  /** process(), appending the alerts to `alerts` rather than allocating an output per event. */
  processInto(event: PostfixEvent, wallMs: number, eventMs: number, alerts: Alert[]): PostfixEvent[] {
    if (eventMs > this.lastEventMs) {
      this.lastEventMs = eventMs;
      this.lastEventWallMs = wallMs;
    }
    const events = this.correlator.push(event, eventMs);
    // The first output is the input event (perhaps enriched), with its ts; summaries have their own.
    for (let i = 0; i < events.length; i++) {
      const output = events[i] as PostfixEvent;
      const found = i === 0 ? this.engine.process(output, eventMs) : this.engine.process(output);
      for (const alert of found) alerts.push(alert);
    }
    return events;
  }

  /**
   * Moves time forward without an event: resolves quiet keys and evicts stale correlation state.
   * Engine time is the newest event time plus the wall time elapsed since it arrived, so a mail
   * server whose clock or zone is off still gets its quiet periods measured correctly.
   */
  tick(wallMs: number): PipelineOutput {
    if (this.lastEventMs === Number.NEGATIVE_INFINITY) return { events: [], alerts: [] };
    const engineNow = this.lastEventMs + Math.max(0, wallMs - this.lastEventWallMs);
    const events = this.correlator.sweep(engineNow);
    const alerts: Alert[] = [];
    for (const output of events) alerts.push(...this.engine.process(output));
    alerts.push(...this.engine.advance(engineNow));
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

  stats(): { engine: EngineStats; correlator: ReturnType<Correlator["stats"]> } {
    return { engine: this.engine.stats(), correlator: this.correlator.stats() };
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

  /** `atMs` is `Date.parse(event.ts)`, for callers that have it already. */
  push(event: PostfixEvent, atMs: number = Date.parse(event.ts)): void {
    // "Now" for raisedAtMs is the newest event time: a line stamped out of order does not move it back.
    if (atMs > this.#nowMs || Number.isNaN(this.#nowMs)) this.#nowMs = atMs;
    // An unparseable ts (NaN) never ticks: it cannot move time.
    if (atMs >= this.#nextTickMs) {
      this.#collect(this.#pipeline.tick(atMs));
      this.#nextTickMs = atMs + TICK_MS;
    }
    this.#pipeline.processInto(event, atMs, atMs, this.alerts);
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
