/**
 * Settings of the command line itself, beyond the services' own: the config file every command
 * reads, and where `postwatch start` finds its private nats-server and keeps its data.
 */
import { z } from "zod";
import { type Env, loadConfig } from "../../../shared/src/runtime/config.js";
import { whyNotExecutable } from "../../../shared/src/runtime/embedded-nats.js";

export const startConfigSchema = z.object({
  /** A JSON file of VARIABLE: value pairs; the environment wins over it. */
  POSTWATCH_CONFIG_FILE: z.string().optional(),
  /** The private nats-server's JetStream store; default ./.postwatch/nats. */
  POSTWATCH_DATA_DIR: z.string().optional(),
  /** The nats-server program; default: found on PATH, then /usr/sbin, /usr/local/sbin, /usr/local/bin. */
  NATS_SERVER_BIN: z
    .string()
    .superRefine((path, context) => {
      const problem = whyNotExecutable(path);
      if (problem) context.addIssue({ code: "custom", message: problem.replace(`${path} `, "") });
    })
    .optional(),
});

export type StartConfig = z.output<typeof startConfigSchema>;

export const loadStartConfig = (source: Env): StartConfig => loadConfig(startConfigSchema, source);
