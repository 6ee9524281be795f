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

export interface PipelineOptions {
  rules: readonly CompiledRule[];
  maxKeysPerRule?: number;
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
    this.correlator = new Correlator(options.correlator);
    this.engine = new DetectionEngine({ rules: options.rules, maxKeysPerRule: options.maxKeysPerRule });
  }

  /** `wallMs` is the caller's clock at arrival (live) or the event's own time (replay). */
  process(event: PostfixEvent, wallMs: number): PipelineOutput {
    const eventMs = Date.parse(event.ts);
    if (eventMs > this.lastEventMs) {
      this.lastEventMs = eventMs;
      this.lastEventWallMs = wallMs;
    }
    const events = this.correlator.push(event);
    const alerts: Alert[] = [];
    for (const output of events) alerts.push(...this.engine.process(output));
    return { events, alerts };
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
