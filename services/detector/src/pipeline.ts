/**
 * The detector's pure core: correlation (sessions, queue IDs) feeding the rule engine, on event
 * time. The live service and `postwatch replay` both drive this one class, which is why a replayed
 * log gives the alerts the live run gave. It is the two stages of a partitioned detector
 * (stages/), CorrelationStage → EvaluationStage, composed in memory: one of each, no routing.
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
import { eventTimeMs } from "../../../shared/src/contracts/event-time.js";
import type { PostfixEvent } from "../../../shared/src/contracts/events.js";
import type { Fact } from "../../../shared/src/contracts/facts.js";
import type { EngineStats } from "./engine/engine.js";
import type { CompiledRule } from "./engine/rule.js";
import type { KeyOwnership } from "./engine/rule-tracker.js";
import {
  type CorrelationOptions,
  CorrelationStage,
  type CorrelationStats,
} from "./stages/correlation-stage.js";
import { EvaluationStage } from "./stages/evaluation-stage.js";

/** The live detector ticks once a second; a replay ticks whenever event time has moved on as much. */
export const TICK_MS = 1000;

export interface PipelineOptions extends CorrelationOptions {
  rules: readonly CompiledRule[];
  maxKeysPerRule?: number;
  /** The share of rule keys this detector replica owns (all by default). */
  ownsKey?: KeyOwnership;
}

export interface PipelineOutput {
  /** The input event (possibly enriched from its session) and any message summaries it completed. */
  events: PostfixEvent[];
  alerts: Alert[];
}

export interface PipelineStats extends CorrelationStats {
  engine: EngineStats;
}

export class DetectionPipeline {
  private readonly correlation: CorrelationStage;
  private readonly evaluation: EvaluationStage;
  /** Facts of the event being processed; reused, so an event costs no array. */
  private readonly facts: Fact[] = [];

  constructor(options: PipelineOptions) {
    this.correlation = new CorrelationStage(options);
    this.evaluation = new EvaluationStage({
      rules: options.rules,
      maxKeysPerRule: options.maxKeysPerRule,
      ownsKey: options.ownsKey,
    });
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
    eventMs: number = eventTimeMs(event.ts),
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
    const facts = this.facts;
    const events = this.correlation.processInto(event, seenMs, wallMs, eventMs, facts);
    for (let i = 0; i < facts.length; i++) this.evaluation.processInto(facts[i] as Fact, wallMs, alerts);
    // Emptied by pop: truncating with `length = 0` is a runtime call, a measurable share of an event.
    while (facts.length > 0) facts.pop();
    return events;
  }

  /**
   * Moves time forward without an event: resolves quiet keys and evicts stale correlation state.
   * Pipeline time is the newest seen time plus the wall time elapsed since it was processed: the
   * detector's clock while it keeps up, the stream's while it reads a backlog.
   */
  tick(wallMs: number): PipelineOutput {
    const swept = this.correlation.tick(wallMs);
    if (swept === undefined) return { events: [], alerts: [] };
    const alerts: Alert[] = [];
    for (const fact of swept.facts) this.evaluation.processInto(fact, wallMs, alerts);
    alerts.push(...this.evaluation.advance(swept.nowMs));
    return { events: swept.events, alerts };
  }

  /** Learns a successful login into the login history only (warm-up of history older than the windows). */
  learnLogin(event: PostfixEvent): void {
    this.evaluation.learnLogin(event);
  }

  /** End of a finite input (replay): flush open messages so their summaries reach the rules. */
  flush(): PipelineOutput {
    const { events, facts } = this.correlation.flush();
    const alerts: Alert[] = [];
    for (const fact of facts) this.evaluation.processInto(fact, fact.seenMs, alerts);
    return { events, alerts };
  }

  stats(): PipelineStats {
    return { ...this.correlation.stats(), engine: this.evaluation.stats() };
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
  push(event: PostfixEvent, atMs: number = eventTimeMs(event.ts), seenMs: number = atMs): void {
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
