import { Counter, Histogram, type Registry } from "prom-client";

export function createAlerterMetrics(registry: Registry) {
  const registers = [registry];
  return {
    alertsReceived: new Counter({
      name: "postwatch_alerter_alerts_received_total",
      help: "Alerts read from JetStream by each destination's consumer, by rule and state (redeliveries included).",
      labelNames: ["sink", "rule", "state"],
      registers,
    }),
    alertsInvalid: new Counter({
      name: "postwatch_alerter_invalid_alerts_total",
      help: "Messages on the alert stream that did not match the alert schema (dropped), by destination.",
      labelNames: ["sink"],
      registers,
    }),
    alertsOutcome: new Counter({
      name: "postwatch_alerter_alerts_total",
      help: "Alerts by destination and outcome: delivered, duplicate (already taken), filtered (not routed there), resolved_unseen (its firing alert never went there), failed (given up), deferred (delivery records unreadable); retry counts each deferral.",
      labelNames: ["sink", "outcome"],
      registers,
    }),
    sinkRequests: new Counter({
      name: "postwatch_alerter_sink_requests_total",
      help: "Requests to destinations by destination and result (delivered, retry, permanent).",
      labelNames: ["sink", "result"],
      registers,
    }),
    sinkDuration: new Histogram({
      name: "postwatch_alerter_sink_request_duration_seconds",
      help: "Request latency by destination.",
      labelNames: ["sink"],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
  };
}

export type AlerterMetrics = ReturnType<typeof createAlerterMetrics>;
