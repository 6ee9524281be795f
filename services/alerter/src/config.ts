import { z } from "zod";
import { commonConfig, type Env, env, loadConfig, natsConfig } from "../../../shared/src/runtime/config.js";

export const alerterConfigSchema = z
  .object({
    ...commonConfig,
    ...natsConfig(),
    SLACK_WEBHOOK_URL: env.url(["https:", "http:"]).optional(),
    WEBHOOK_URL: env.url(["https:", "http:"]).optional(),
    /** Sent as the generic webhook's Authorization header (`Bearer <token>`, `Splunk <token>`). */
    WEBHOOK_AUTHORIZATION: z.string().optional(),
    /** When set, each generic webhook request is signed with it (signature.ts). */
    WEBHOOK_SECRET: z
      .string()
      .min(16, "must be at least 16 characters (e.g. openssl rand -hex 32)")
      .optional(),
    WEBHOOK_TIMEOUT_MS: env.positiveInt(5000),
    /** Deliveries per alert before it is given up (logged and counted). */
    ALERTER_MAX_ATTEMPTS: env.positiveInt(12),
    ALERTER_RETRY_BASE_MS: env.positiveInt(1000),
    ALERTER_RETRY_MAX_MS: env.positiveInt(60_000),
    /** The same alert (fingerprint, state, start) is not sent twice within this time. */
    ALERTER_DEDUP_SECONDS: env.positiveInt(3600),
    /** Alerts arriving within this time go out together: one Slack message for an attack wave. */
    ALERTER_GROUP_WAIT_MS: env.positiveInt(1000),
    /** At most this many alerts in one group (Slack shows 40 in full, the rest as a count). */
    ALERTER_GROUP_MAX: env.positiveInt(50),
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
  });

export type AlerterConfig = z.output<typeof alerterConfigSchema>;

export const loadAlerterConfig = (source: Env): AlerterConfig => loadConfig(alerterConfigSchema, source);
