/**
 * The alert contract: what the detector publishes and the alerter delivers. Versioned like events
 * (see events.ts). Alerts never carry secrets: samples are redacted by the parser before they get here.
 */
import { z } from "zod";

export const ALERT_SCHEMA_VERSION = 1 as const;

export const Severity = z.enum(["info", "warning", "critical"]);
export type Severity = z.infer<typeof Severity>;

export const AlertState = z.enum(["firing", "resolved"]);
export type AlertState = z.infer<typeof AlertState>;

/** What an alert is about: the value the rule grouped by. */
export const AlertKey = z.object({
  type: z.enum(["client_ip", "client_net", "sasl_user", "local_uid", "host", "host_cipher", "global"]),
  value: z.string(),
});
export type AlertKey = z.infer<typeof AlertKey>;

export const Alert = z.object({
  v: z.literal(ALERT_SCHEMA_VERSION),
  /** Stable per rule and key: the same attack keeps the same fingerprint from firing to resolved. */
  fingerprint: z.string(),
  rule: z.string(),
  state: AlertState,
  severity: Severity,
  key: AlertKey,
  summary: z.string(),
  remediation: z.string(),
  /** Event time of the first counted event of this episode (ISO 8601). */
  startsAt: z.string(),
  /** Event time of the last counted event; set on resolved alerts. */
  endsAt: z.string().optional(),
  /**
   * What the rule counted in its window (events, or distinct values for distinct rules): when it
   * fired; on a resolved alert, the episode's highest.
   */
  count: z.number().int(),
  threshold: z.number().int(),
  windowSeconds: z.number().int(),
  /** Mail servers whose logs contributed. */
  hosts: z.array(z.string()),
  /** The keys seen beside the alert's key: client IPs behind a user, users behind an IP. */
  related: z.object({
    clientIps: z.array(z.string()),
    saslUsers: z.array(z.string()),
  }),
  /** Rule-specific facts (mechanisms, top recipient domains, bounce counts, ...), all bounded. */
  facts: z.record(z.string(), z.union([z.string(), z.number(), z.array(z.string())])),
  /** A few redacted log lines that made the alert. */
  samples: z.array(z.string()),
});
export type Alert = z.infer<typeof Alert>;

/**
 * One alert notification's identity: the JetStream message ID (duplicate suppression on publish)
 * and the alerter's dedup key. A re-derived alert after a detector restart gets the same identity.
 */
export const alertIdentity = (alert: Pick<Alert, "fingerprint" | "state" | "startsAt">): string =>
  `${alert.fingerprint}.${alert.state}.${alert.startsAt}`;

/**
 * An alert's window as people read it, the same in summaries, Slack and the CLI:
 * 600 → `10m`, 3600 → `1h`, 86400 → `1d`, 90 → `90s`.
 */
export function formatWindow(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400}d`;
  if (seconds % 3_600 === 0) return `${seconds / 3_600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}
