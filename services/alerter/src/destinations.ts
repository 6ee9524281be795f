/**
 * Where alerts go: a list of destinations, each a Slack incoming webhook, a generic JSON webhook or
 * an Alertmanager, each with its own filter (minimum severity, rules). ALERTER_DESTINATIONS holds
 * the list as JSON; SLACK_WEBHOOK_URL and WEBHOOK_URL stay as shorthand for one destination each.
 */
import { z } from "zod";
import { type Alert, Severity } from "../../../shared/src/contracts/alerts.js";
import { env } from "../../../shared/src/runtime/config.js";

const httpUrl = env.url(["https:", "http:"]);

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

/** A destination's name names its JetStream consumer, its metric label and its delivery records. */
const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, "must be 1-32 of a-z, 0-9, _ and -, starting with a letter or digit");

const filters = {
  name: name.optional(),
  url: httpUrl,
  /** Alerts below this severity are not sent here. */
  minSeverity: Severity.default("info"),
  /** Only these rules' alerts are sent here; every rule's when absent. */
  rules: z.array(z.string().min(1)).min(1).optional(),
};

export const DestinationSpec = z.discriminatedUnion("type", [
  // A Slack channel pages people: info findings (client abuse) go to the other destinations unless asked for.
  z.strictObject({ type: z.literal("slack"), ...filters, minSeverity: Severity.default("warning") }),
  z.strictObject({
    type: z.literal("webhook"),
    ...filters,
    /** Sent as the Authorization header (`Bearer <token>`, `Splunk <token>`). */
    authorization: z.string().min(1).optional(),
    /** Signs each request (signature.ts). */
    secret: z.string().min(16, "must be at least 16 characters (e.g. openssl rand -hex 32)").optional(),
  }),
  z.strictObject({
    type: z.literal("alertmanager"),
    ...filters,
    /** Shown by Alertmanager as the alert's source link, e.g. a Grafana dashboard. */
    generatorUrl: httpUrl.optional(),
  }),
]);
export type DestinationSpec = z.output<typeof DestinationSpec>;
export type Destination = DestinationSpec & { name: string };

/** ALERTER_DESTINATIONS: a JSON list of destinations (a string from the environment or the file). */
export const destinationList = z
  .string()
  .transform((text, context) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      context.addIssue({ code: "custom", message: "must be a JSON list of destinations" });
      return z.NEVER;
    }
  })
  .pipe(z.array(DestinationSpec, { error: "must be a JSON list of destinations" }));

/** The shorthand variables, as the destinations they stand for. */
export interface Shorthand {
  SLACK_WEBHOOK_URL?: string | undefined;
  WEBHOOK_URL?: string | undefined;
  WEBHOOK_AUTHORIZATION?: string | undefined;
  WEBHOOK_SECRET?: string | undefined;
}

/**
 * Every destination, named: the shorthand ones first (`slack`, `webhook`), then the list's, which
 * default to their type's name. Two of one name are refused by the config's check (duplicateNames).
 */
export function resolveDestinations(list: readonly DestinationSpec[], shorthand: Shorthand): Destination[] {
  const destinations: Destination[] = [];
  if (shorthand.SLACK_WEBHOOK_URL)
    destinations.push({
      name: "slack",
      type: "slack",
      url: shorthand.SLACK_WEBHOOK_URL,
      minSeverity: "warning",
    });
  if (shorthand.WEBHOOK_URL)
    destinations.push({
      name: "webhook",
      type: "webhook",
      url: shorthand.WEBHOOK_URL,
      minSeverity: "info",
      ...(shorthand.WEBHOOK_AUTHORIZATION ? { authorization: shorthand.WEBHOOK_AUTHORIZATION } : {}),
      ...(shorthand.WEBHOOK_SECRET ? { secret: shorthand.WEBHOOK_SECRET } : {}),
    });
  for (const spec of list) destinations.push({ ...spec, name: spec.name ?? spec.type });
  return destinations;
}

export function duplicateNames(destinations: readonly Destination[]): string[] {
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const { name } of destinations) (seen.has(name) ? duplicates : seen).add(name);
  return [...duplicates];
}

/** Whether a destination takes an alert: its severity is high enough and its rule is one it wants. */
export function routes(
  destination: { minSeverity: Severity; rules?: readonly string[] | undefined },
  alert: Alert,
): boolean {
  if (SEVERITY_RANK[alert.severity] < SEVERITY_RANK[destination.minSeverity]) return false;
  return destination.rules === undefined || destination.rules.includes(alert.rule);
}
