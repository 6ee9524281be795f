/** Test-only: a valid alert with overridable fields. */
import type { Alert } from "../../../shared/src/contracts/alerts.js";
import { type DeliveryLog, deliveryKey } from "./delivery-log.js";

export function sampleAlert(overrides: Partial<Alert> = {}): Alert {
  return {
    v: 1,
    fingerprint: "54a088f58873591311310590251c294b",
    rule: "sasl_bruteforce",
    state: "firing",
    severity: "warning",
    key: { type: "client_ip", value: "176.103.49.30" },
    summary: "SASL brute force from 176.103.49.30: 5 failed logins in 10m on mx1 (mechanisms: PLAIN (5))",
    remediation: "Block the address at the firewall.",
    startsAt: "2026-02-23T11:57:45.000Z",
    count: 5,
    threshold: 5,
    windowSeconds: 600,
    hosts: ["mx1"],
    related: { clientIps: [], saslUsers: ["admin@fipick.com"] },
    facts: { mechanisms: ["PLAIN (5)"] },
    samples: [
      "2026-02-23T11:57:45.000Z mx1 postfix/smtpd[32451]: sasl_auth_failed PLAIN from unknown[176.103.49.30]",
    ],
    ...overrides,
  };
}

/** Test-only: the delivery log's contract kept in memory (delivery-log.ts keeps it in JetStream KV). */
export function memoryDeliveryLog(): DeliveryLog & { keys: Set<string> } {
  const keys = new Set<string>();
  return {
    keys,
    has: async (destination, notice) => keys.has(deliveryKey(destination, notice)),
    record: async (destination, notices) => {
      for (const notice of notices) keys.add(deliveryKey(destination, notice));
    },
  };
}
