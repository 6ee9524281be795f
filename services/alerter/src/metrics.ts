import { Counter, Histogram, type Registry } from "prom-client";

export function createAlerterMetrics(registry: Registry) {
  const registers = [registry];
  return {
    alertsReceived: new Counter({
      name: "postwatch_alerter_alerts_received_total",
      help: "Alerts read from JetStream, by rule and state (redeliveries included).",
      labelNames: ["rule", "state"],
      registers,
    }),
    alertsInvalid: new Counter({
      name: "postwatch_alerter_invalid_alerts_total",
      help: "Messages on the alert stream that did not match the alert schema (dropped).",
      registers,
    }),
    alertsOutcome: new Counter({
      name: "postwatch_alerter_alerts_total",
      help: "Alerts by final outcome: delivered, duplicate (already sent), failed (gave up); retry counts each deferral.",
      labelNames: ["outcome"],
      registers,
    }),
    sinkRequests: new Counter({
      name: "postwatch_alerter_sink_requests_total",
      help: "Webhook requests by sink and result (delivered, retry, permanent).",
      labelNames: ["sink", "result"],
      registers,
    }),
    sinkDuration: new Histogram({
      name: "postwatch_alerter_sink_request_duration_seconds",
      help: "Webhook request latency by sink.",
      labelNames: ["sink"],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
  };
}

export type AlerterMetrics = ReturnType<typeof createAlerterMetrics>;
