import { z } from "zod";
import {
  commonConfig,
  type Env,
  env,
  eventPartitionsConfig,
  loadConfig,
  natsConfig,
} from "../../../shared/src/runtime/config.js";
import { zoneOffsetFor } from "../../../shared/src/syslog/time.js";
import { parsePeerPatterns } from "./peer-names.js";
import { parseSourceRanges } from "./sources.js";

export const receiverConfigSchema = z
  .object({
    ...commonConfig,
    ...natsConfig(),
    ...eventPartitionsConfig(),
    SYSLOG_HOST: z.string().default("0.0.0.0"),
    SYSLOG_UDP_PORT: env.port(5514),
    SYSLOG_TCP_PORT: env.port(5514),
    /** Syslog over TLS (RFC 5425); off unless a port and a certificate are given. */
    SYSLOG_TLS_PORT: env.port(0),
    SYSLOG_TLS_CERT_FILE: z.string().optional(),
    SYSLOG_TLS_KEY_FILE: z.string().optional(),
    /** When set, TLS clients must present a certificate signed by this CA. */
    SYSLOG_TLS_CA_FILE: z.string().optional(),
    /** How often the certificate files are checked for renewal (cert-manager, ACME); 0: never. */
    SYSLOG_TLS_RELOAD_SECONDS: seconds(60, "never"),
    /** When set, a client certificate must also name one of these hosts (`*.domain` allowed). */
    SYSLOG_TLS_PERMITTED_PEERS: z
      .string()
      .default("")
      .transform((text, context) => parsedOr(parsePeerPatterns, text, context)),
    SYSLOG_MAX_MESSAGE_BYTES: env.positiveInt(64 * 1024),
    /** Addresses and CIDR ranges allowed to send; unset: anyone who reaches the ports. */
    SYSLOG_ALLOWED_SOURCES: z
      .string()
      .default("")
      .transform((text, context) => parsedOr(parseSourceRanges, text, context)),
    /** Open TCP and TLS connections per listener; at the cap, see admission.ts for who gets one. */
    SYSLOG_MAX_CONNECTIONS: env.positiveInt(1024),
    /** Open connections one address may hold per listener (more behind NAT: raise it there). */
    SYSLOG_MAX_CONNECTIONS_PER_SOURCE: env.positiveInt(32),
    /** Mail servers served first when connections run short; they also never count as strangers. */
    SYSLOG_PREFERRED_SOURCES: z
      .string()
      .default("")
      .transform((text, context) => parsedOr(parseSourceRanges, text, context)),
    /**
     * A connection that sends nothing for this long is closed; 0: never. rsyslog reconnects before
     * its next line, so a long quiet spell costs nothing; a stranger holding a slot does.
     */
    SYSLOG_IDLE_TIMEOUT_SECONDS: seconds(3600, "never"),
    /** A frame must be complete this long after its first byte (slow-loris senders); 0: no limit. */
    SYSLOG_FRAME_TIMEOUT_SECONDS: seconds(30, "no limit"),
    /** UDP socket receive buffer (SO_RCVBUF), for bursts; capped by the kernel's net.core.rmem_max. */
    SYSLOG_UDP_RECEIVE_BUFFER_BYTES: z.coerce
      .number({ error: "must be a number of bytes" })
      .int("must be a whole number")
      .positive("must be > 0")
      .optional(),
    /** Zone of timestamps that carry none (BSD syslog): the mail servers' local zone. */
    SYSLOG_TIMEZONE: z
      .string()
      .default("UTC")
      .refine((zone) => {
        try {
          zoneOffsetFor(zone);
          return true;
        } catch {
          return false;
        }
      }, "must be an IANA time zone such as UTC or Europe/Berlin"),
    /** Events held while NATS is slow or away; beyond this, UDP input is dropped (counted) and TCP is paused. */
    RECEIVER_QUEUE_MAX_EVENTS: env.positiveInt(100_000),
    /** Events per JetStream message: one publish and one ack per batch, not per line. */
    RECEIVER_BATCH_MAX_EVENTS: env.positiveInt(256),
    /**
     * How long a batch waits for more events before it is sent: the latency a quiet server's line
     * pays. 20 ms rather than 5: at 5,000 lines/s from 24 hosts, spread over 12 partitions, on a
     * 3-node cluster with R3 streams, 10-15% less nats-server CPU, 3 runs each (docs/performance.md);
     * alerts are seconds apart anyway.
     */
    RECEIVER_BATCH_FLUSH_MS: env.positiveInt(20),
  })
  .superRefine((config, context) => {
    if (config.SYSLOG_UDP_PORT === 0 && config.SYSLOG_TCP_PORT === 0 && config.SYSLOG_TLS_PORT === 0) {
      context.addIssue({
        code: "custom",
        path: ["SYSLOG_TCP_PORT"],
        message:
          "is 0 (off), as are SYSLOG_UDP_PORT and SYSLOG_TLS_PORT: the receiver would listen for nothing",
      });
    }
    if (config.SYSLOG_TLS_PORT !== 0 && (!config.SYSLOG_TLS_CERT_FILE || !config.SYSLOG_TLS_KEY_FILE)) {
      context.addIssue({
        code: "custom",
        path: [config.SYSLOG_TLS_CERT_FILE ? "SYSLOG_TLS_KEY_FILE" : "SYSLOG_TLS_CERT_FILE"],
        message: "required when SYSLOG_TLS_PORT is set",
      });
    }
    if (config.SYSLOG_TLS_PERMITTED_PEERS.length > 0 && !config.SYSLOG_TLS_CA_FILE) {
      context.addIssue({
        code: "custom",
        path: ["SYSLOG_TLS_PERMITTED_PEERS"],
        message: "needs SYSLOG_TLS_CA_FILE: without client certificates there is no name to check",
      });
    }
  });

/** A whole number of seconds, where 0 means `zero` (never, no limit). */
function seconds(fallback: number, zero: string) {
  return z.coerce
    .number({ error: "must be a number of seconds" })
    .int("must be a whole number")
    .min(0, `must be 0 (${zero}) or more`)
    .default(fallback);
}

/** A list setting read by `parse`, its error reported against the variable. */
function parsedOr<T>(parse: (text: string) => T[], text: string, context: z.RefinementCtx): T[] {
  try {
    return parse(text);
  } catch (error) {
    context.addIssue({ code: "custom", message: (error as Error).message });
    return z.NEVER;
  }
}

export type ReceiverConfig = z.output<typeof receiverConfigSchema>;

export const loadReceiverConfig = (source: Env): ReceiverConfig => loadConfig(receiverConfigSchema, source);
