import { Counter, Gauge, type Registry } from "prom-client";
import type { PipelineStats } from "./pipeline.js";

/** The detector's own series; rule stats are read from the engine at scrape time. */
export function createDetectorMetrics(registry: Registry, stats: () => PipelineStats) {
  const registers = [registry];
  const collectOnScrape = <T extends Gauge>(gauge: T, fill: (g: T) => void) => {
    // prom-client calls collect() on every scrape; reading stats there keeps the hot path free of metric updates.
    (gauge as unknown as { collect: () => void }).collect = () => fill(gauge);
    return gauge;
  };
  const metrics = {
    events: new Counter({
      name: "postwatch_detector_events_total",
      help: "Events read from JetStream by outcome: processed, or set aside on the dead-letter stream as invalid_json, unsupported_version, schema_mismatch (once per message).",
      labelNames: ["outcome"],
      registers,
    }),
    alerts: new Counter({
      name: "postwatch_detector_alerts_total",
      help: "Alerts published by rule and state.",
      labelNames: ["rule", "state"],
      registers,
    }),
    publishErrors: new Counter({
      name: "postwatch_detector_alert_publish_errors_total",
      help: "Alert and fact publishes JetStream did not acknowledge (retried; the input is acked only once they are stored).",
      registers,
    }),
    facts: new Counter({
      name: "postwatch_detector_facts_total",
      help: "Facts an evaluation stage read from JetStream by outcome: processed, or set aside on the dead-letter stream as invalid_json, unsupported_version, schema_mismatch (once per message).",
      labelNames: ["outcome"],
      registers,
    }),
    factsPublished: new Counter({
      name: "postwatch_detector_facts_published_total",
      help: "Facts a correlation stage published, once per fact partition it went to.",
      registers,
    }),
    partitionsOwned: new Gauge({
      name: "postwatch_detector_partitions_owned",
      help: "Partitions this detector reads: event partitions (correlation stage) or fact partitions (evaluation stage).",
      labelNames: ["partitions"],
      registers,
    }),
    consumerLag: new Gauge({
      name: "postwatch_detector_consumer_pending_events",
      help: "Messages (event or fact batches) in the stream not yet delivered to this detector's consumers (consumer lag).",
      registers,
    }),
  };
  collectOnScrape(
    new Gauge({
      name: "postwatch_detector_tracked_keys",
      help: "Keys (IPs, users, hosts) tracked per rule.",
      labelNames: ["rule"],
      registers,
    }),
    (gauge) => {
      for (const [rule, s] of Object.entries(stats().engine.rules)) gauge.labels(rule).set(s.trackedKeys);
    },
  );
  const keyEvictions = new Counter({
    name: "postwatch_detector_key_evictions_total",
    help: "Keys evicted because a rule's key limit was reached (least recently seen first).",
    labelNames: ["rule"],
    registers,
  });
  const reportedKeyEvictions = new Map<string, number>();
  (keyEvictions as unknown as { collect: () => void }).collect = () => {
    for (const [rule, s] of Object.entries(stats().engine.rules)) {
      keyEvictions.labels(rule).inc(s.evictions - (reportedKeyEvictions.get(rule) ?? 0));
      reportedKeyEvictions.set(rule, s.evictions);
    }
  };
  collectOnScrape(
    new Gauge({
      name: "postwatch_detector_firing_alerts",
      help: "Keys currently firing per rule.",
      labelNames: ["rule"],
      registers,
    }),
    (gauge) => {
      for (const [rule, s] of Object.entries(stats().engine.rules)) gauge.labels(rule).set(s.firing);
    },
  );
  collectOnScrape(
    new Gauge({
      name: "postwatch_correlator_open_messages",
      help: "Messages the correlator is following.",
      registers,
    }),
    (gauge) => gauge.set(stats().correlator.messages),
  );
  countOnScrape(
    new Counter({
      name: "postwatch_correlator_message_evictions_total",
      help: "Messages dropped before their end because of the correlator's age or count limit (emitted as evicted, unless summarized at first pass already).",
      registers,
    }),
    () => stats().correlator.evictedMessages,
  );
  countOnScrape(
    new Counter({
      name: "postwatch_detector_events_clamped_total",
      help: "Events dated more than DETECTOR_MAX_CLOCK_AHEAD_SECONDS after they reached JetStream (a fast or forged clock), placed at that bound.",
      registers,
    }),
    () => stats().clampedEvents,
  );
  return metrics;
}

/** A counter that follows a running total the pipeline keeps, brought up to date on each scrape. */
function countOnScrape(counter: Counter, total: () => number): void {
  let reported = 0;
  (counter as unknown as { collect: () => void }).collect = () => {
    const now = total();
    counter.inc(now - reported);
    reported = now;
  };
}

export type DetectorMetrics = ReturnType<typeof createDetectorMetrics>;
