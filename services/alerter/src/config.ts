import { z } from "zod";
import { commonConfig, type Env, env, loadConfig, natsConfig } from "../../../shared/src/runtime/config.js";
import {
  type Destination,
  destinationList,
  duplicateNames,
  resolveDestinations,
  type Shorthand,
} from "./destinations.js";

export const alerterConfigSchema = z
  .object({
    ...commonConfig,
    ...natsConfig(),
    /** Shorthand for a `slack` destination that takes every alert. */
    SLACK_WEBHOOK_URL: env.url(["https:", "http:"]).optional(),
    /** Shorthand for a `webhook` destination that takes every alert. */
    WEBHOOK_URL: env.url(["https:", "http:"]).optional(),
    /** Sent as the generic webhook's Authorization header (`Bearer <token>`, `Splunk <token>`). */
    WEBHOOK_AUTHORIZATION: z.string().optional(),
    /** When set, each generic webhook request is signed with it (signature.ts). */
    WEBHOOK_SECRET: z
      .string()
      .min(16, "must be at least 16 characters (e.g. openssl rand -hex 32)")
      .optional(),
    /** More destinations, with routing: a JSON list (destinations.ts, docs/alerting.md). */
    ALERTER_DESTINATIONS: destinationList.optional(),
    WEBHOOK_TIMEOUT_MS: env.positiveInt(5000),
    /** Attempts per alert and destination before it is given up (logged and counted). */
    ALERTER_MAX_ATTEMPTS: env.positiveInt(12),
    ALERTER_RETRY_BASE_MS: env.positiveInt(1000),
    ALERTER_RETRY_MAX_MS: env.positiveInt(60_000),
    /**
     * How long the alerter remembers what each destination took: the same alert is not sent twice
     * within it, and a resolved notice goes only where its firing alert went.
     */
    ALERTER_DEDUP_SECONDS: env.positiveInt(30 * 86_400),
    /** Alerts arriving within this time go out together: one Slack message for an attack wave. */
    ALERTER_GROUP_WAIT_MS: env.positiveInt(1000),
    /** At most this many alerts in one group (a Slack digest lists 48, the rest as a count). */
    ALERTER_GROUP_MAX: env.positiveInt(50),
    /** An alert a crashed alerter had not delivered is handed out again after this long. */
    ALERTER_REDELIVERY_SECONDS: env.positiveInt(30),
  })
  .superRefine((config, context) => {
    // Settings of the generic webhook mean nothing without it.
    const companions = [
      ["WEBHOOK_AUTHORIZATION", "is sent with"],
      ["WEBHOOK_SECRET", "signs"],
    ] as const;
    for (const [variable, role] of companions) {
      if (config[variable] && !config.WEBHOOK_URL)
        context.addIssue({
          code: "custom",
          path: [variable],
          message: `${role} WEBHOOK_URL's requests: set WEBHOOK_URL too`,
        });
    }
    for (const name of duplicateNames(configuredDestinations(config)))
      context.addIssue({
        code: "custom",
        path: ["ALERTER_DESTINATIONS"],
        message: `two destinations are named "${name}" (SLACK_WEBHOOK_URL is "slack", WEBHOOK_URL "webhook"): give each its own name`,
      });
  });

export type AlerterConfig = z.output<typeof alerterConfigSchema>;

/** The shorthand destinations and ALERTER_DESTINATIONS' list, each named. */
export const configuredDestinations = (
  config: Pick<AlerterConfig, "ALERTER_DESTINATIONS" | keyof Shorthand>,
): Destination[] => resolveDestinations(config.ALERTER_DESTINATIONS ?? [], config);

export const loadAlerterConfig = (source: Env): AlerterConfig => loadConfig(alerterConfigSchema, source);
