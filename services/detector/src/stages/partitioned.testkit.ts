/**
 * The partitioned detector in memory, for tests: events partitioned by host into correlation
 * stages, their facts routed into evaluation stages, all driven on event time.
 */
import type { Alert } from "../../../../shared/src/contracts/alerts.js";
import type { PostfixEvent } from "../../../../shared/src/contracts/events.js";
import type { Fact } from "../../../../shared/src/contracts/facts.js";
import { eventPartition } from "../../../../shared/src/contracts/partitions.js";
import { generateMixedLog } from "../../../../test/generator/mixed-log.js";
import type { CompiledRule } from "../engine/rule.js";
import { TICK_MS } from "../pipeline.js";
import { CorrelationStage } from "./correlation-stage.js";
import { EvaluationStage } from "./evaluation-stage.js";
import { FactRouter } from "./fact-router.js";

/**
 * Four mail servers (mx1 to mx4) each writing `linesEach` lines of the generator's compromised-account
 * day, interleaved by time as one syslog host receives them: the same attackers and users on every
 * server, so rule keys cross hosts and event partitions.
 */
export const fourServersLog = (linesEach: number): string[] =>
  mailServersLog(["mx1", "mx2", "mx3", "mx4"], linesEach);

/** As fourServersLog, for the named servers: the i-th writes the generator's day of seed i + 1. */
export function mailServersLog(hosts: readonly string[], linesEach: number): string[] {
  const lines = hosts.flatMap((host, i) =>
    [...generateMixedLog({ lines: linesEach, seed: i + 1, scenario: "compromised-account" })].map((line) =>
      line.replace(" mx1 ", ` ${host} `),
    ),
  );
  // rfc3339 stamps sort as text; the sort is stable, so each server's order is kept.
  const stamp = (line: string) => line.slice(0, 32);
  return lines.sort((a, b) => (stamp(a) < stamp(b) ? -1 : stamp(a) > stamp(b) ? 1 : 0));
}

/**
 * The stages driven as EventTimeReplay drives one pipeline (a tick whenever event time has moved
 * TICK_MS, every event at its own time, a flush at the end), each fact handed to the evaluation
 * stages of the partitions the router names.
 */
export function runPartitioned(
  rules: readonly CompiledRule[],
  events: readonly PostfixEvent[],
  eventPartitions: number,
  factPartitions: number,
) {
  const router = new FactRouter(rules, factPartitions);
  const correlation = Array.from({ length: eventPartitions }, () => new CorrelationStage());
  const evaluation = Array.from(
    { length: factPartitions },
    (_, q) => new EvaluationStage({ rules, ownsKey: router.ownership(q) }),
  );
  const eventsIn = new Array<number>(eventPartitions).fill(0);
  const factsIn = new Array<number>(factPartitions).fill(0);
  const alerts: Alert[] = [];
  const route = (facts: readonly Fact[], wallMs: number) => {
    for (const fact of facts)
      for (const q of router.partitionsOf(fact.event)) {
        factsIn[q] = (factsIn[q] ?? 0) + 1;
        (evaluation[q] as EvaluationStage).processInto(fact, wallMs, alerts);
      }
  };
  let nextTickMs = Number.NEGATIVE_INFINITY;
  const facts: Fact[] = [];
  for (const event of events) {
    const atMs = Date.parse(event.ts);
    if (atMs >= nextTickMs) {
      for (const stage of correlation) route(stage.tick(atMs)?.facts ?? [], atMs);
      for (const stage of evaluation) alerts.push(...stage.tick(atMs));
      nextTickMs = atMs + TICK_MS;
    }
    const p = eventPartition(event.host, eventPartitions);
    eventsIn[p] = (eventsIn[p] ?? 0) + 1;
    (correlation[p] as CorrelationStage).processInto(event, atMs, atMs, atMs, facts);
    route(facts, atMs);
    facts.length = 0;
  }
  for (const stage of correlation) for (const fact of stage.flush().facts) route([fact], fact.seenMs);
  return { alerts, eventsIn, factsIn };
}
