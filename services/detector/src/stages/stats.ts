/**
 * One detector's stats over the stages it runs, one per partition it owns: what its metrics report
 * (metrics.ts), summed, so each replica reports its own partitions and sums over replicas are right.
 */
import type { EngineStats } from "../engine/engine.js";
import type { RuleStats } from "../engine/rule-tracker.js";
import type { PipelineStats } from "../pipeline.js";
import type { CorrelationStats } from "./correlation-stage.js";

export function combinedStats(
  correlation: readonly CorrelationStats[],
  evaluation: readonly EngineStats[],
): PipelineStats {
  const rules: Record<string, RuleStats> = {};
  for (const engine of evaluation)
    for (const [id, s] of Object.entries(engine.rules)) {
      const sum = rules[id];
      rules[id] =
        sum === undefined
          ? { ...s, alerts: { ...s.alerts } }
          : {
              trackedKeys: sum.trackedKeys + s.trackedKeys,
              detailedKeys: sum.detailedKeys + s.detailedKeys,
              evictions: sum.evictions + s.evictions,
              firing: sum.firing + s.firing,
              alerts: {
                firing: sum.alerts.firing + s.alerts.firing,
                resolved: sum.alerts.resolved + s.alerts.resolved,
              },
            };
    }
  const total = <T>(items: readonly T[], of: (item: T) => number) =>
    items.reduce((n, item) => n + of(item), 0);
  return {
    correlator: {
      messages: total(correlation, (c) => c.correlator.messages),
      sessions: total(correlation, (c) => c.correlator.sessions),
      evictedMessages: total(correlation, (c) => c.correlator.evictedMessages),
      evictedSessions: total(correlation, (c) => c.correlator.evictedSessions),
    },
    clampedEvents: total(correlation, (c) => c.clampedEvents),
    eventsWithoutTime: total(correlation, (c) => c.eventsWithoutTime),
    trackedAuthSessions: total(correlation, (c) => c.trackedAuthSessions),
    engine: {
      eventsProcessed: total(evaluation, (e) => e.eventsProcessed),
      eventsWithoutTime: total(evaluation, (e) => e.eventsWithoutTime),
      loginHistoryUsers: Math.max(0, ...evaluation.map((e) => e.loginHistoryUsers)),
      rules,
    },
  };
}
