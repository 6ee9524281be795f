/**
 * The detector's second stage: the rules over facts (the correlation stage's output). One instance
 * per fact partition, owning the rule keys whose partition it is (fact-router.ts); each also keeps
 * the whole login history, since every successful login is routed to every partition.
 */
import type { Alert } from "../../../../shared/src/contracts/alerts.js";
import type { PostfixEvent } from "../../../../shared/src/contracts/events.js";
import type { Fact } from "../../../../shared/src/contracts/facts.js";
import { DetectionEngine, type EngineOptions, type EngineStats } from "../engine/engine.js";
import { SeenClock } from "./seen-clock.js";

export class EvaluationStage {
  private readonly engine: DetectionEngine;
  private readonly clock = new SeenClock();

  constructor(options: EngineOptions) {
    this.engine = new DetectionEngine(options);
  }

  /** Counts one fact, appending the alerts it raises; `wallMs` is the caller's clock as it processes it. */
  processInto(fact: Fact, wallMs: number, alerts: Alert[]): void {
    this.clock.observe(fact.seenMs, wallMs);
    this.engine.processInto(fact.event, fact, fact.atMs, fact.seenMs, alerts);
  }

  /** Moves time to the newest fact's seen time plus the wall time since (SeenClock): resolves and forgets. */
  tick(wallMs: number): Alert[] {
    const nowMs = this.clock.now(wallMs);
    return nowMs === undefined ? [] : this.engine.advance(nowMs);
  }

  /** Moves time to `nowMs`, a clock the caller keeps (the correlation stage's, in one process). */
  advance(nowMs: number): Alert[] {
    return this.engine.advance(nowMs);
  }

  /** Learns a successful login into the login history only (warm-up of history older than the windows). */
  learnLogin(event: PostfixEvent): void {
    this.engine.learnLogin(event);
  }

  stats(): EngineStats {
    return this.engine.stats();
  }
}
