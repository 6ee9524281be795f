/**
 * NATS connection and JetStream topology. Every service connects the same way (reconnect forever,
 * status changes logged once each) and declares the streams it uses idempotently, so services can
 * start in any order.
 */
import { readFileSync } from "node:fs";
import {
  DiscardPolicy,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from "@nats-io/jetstream";
import { connect, credsAuthenticator, type NatsConnection, nanos } from "@nats-io/transport-node";
import {
  ALERTS_STREAM,
  ALERTS_WILDCARD,
  DEAD_LETTERS_STREAM,
  DEAD_LETTERS_WILDCARD,
  EVENTS_STREAM,
  EVENTS_WILDCARD,
} from "../contracts/subjects.js";
import type { Logger } from "./log.js";

export interface NatsSettings {
  servers: string[];
  /** Client name shown by `nats server report connections`. */
  name: string;
  credsFile?: string;
  user?: string;
  password?: string;
}

export interface NatsHandle {
  connection: NatsConnection;
  /** False while the client is disconnected and reconnecting. */
  isConnected(): boolean;
}

/** The first connection failed: an operator problem (address, auth, server down), told in one line. */
export class NatsUnavailableError extends Error {
  override readonly name = "NatsUnavailableError";
}

export async function connectNats(settings: NatsSettings, logger: Logger): Promise<NatsHandle> {
  const connection = await connect({
    servers: settings.servers,
    name: settings.name,
    maxReconnectAttempts: -1,
    // Otherwise every JetStream publish builds two Error objects up front, stack traces included, in
    // case it fails: measured at a quarter of the whole pipeline's CPU under load.
    noAsyncTraces: true,
    reconnectTimeWait: 1000,
    ...(settings.credsFile ? { authenticator: credsAuthenticator(readFileSync(settings.credsFile)) } : {}),
    ...(settings.user ? { user: settings.user, pass: settings.password } : {}),
  }).catch((error: Error) => {
    // Credentials may sit in the URL (nats://user:pass@host): keep them out of the message.
    const servers = settings.servers.map((url) => url.replace(/\/\/[^@/]*@/, "//")).join(", ");
    throw new NatsUnavailableError(`cannot connect to NATS at ${servers}: ${error.message}`);
  });
  let connected = true;
  logger.info({ server: connection.getServer() }, "connected to NATS");
  void (async () => {
    for await (const status of connection.status()) {
      if (status.type === "disconnect") {
        connected = false;
        logger.warn({ server: status.server }, "disconnected from NATS; reconnecting");
      } else if (status.type === "reconnect") {
        connected = true;
        logger.info({ server: status.server }, "reconnected to NATS");
      } else if (status.type === "error") {
        logger.error({ error: String(status.error) }, "NATS error");
      }
    }
  })();
  void connection.closed().then((error) => {
    connected = false;
    if (error) logger.error({ error: error.message }, "NATS connection closed with an error");
  });
  return { connection, isConnected: () => connected && !connection.isClosed() };
}

export interface StreamLimits {
  /** How long events stay replayable: at least the detector's longest rule window. */
  eventsMaxAgeSeconds: number;
  eventsMaxBytes: number;
  alertsMaxAgeSeconds: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  eventsMaxAgeSeconds: 3 * 86_400,
  eventsMaxBytes: 1024 ** 3,
  alertsMaxAgeSeconds: 30 * 86_400,
};

/** Dead letters are kept as long as alerts, within 256 MiB (the oldest go first). */
const DEAD_LETTERS_MAX_BYTES = 256 * 1024 ** 2;

export function streamConfigs(limits: StreamLimits): (Partial<StreamConfig> & { name: string })[] {
  return [
    {
      name: EVENTS_STREAM,
      subjects: [EVENTS_WILDCARD],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: nanos(limits.eventsMaxAgeSeconds * 1000),
      max_bytes: limits.eventsMaxBytes,
      duplicate_window: nanos(120_000),
    },
    {
      name: ALERTS_STREAM,
      subjects: [ALERTS_WILDCARD],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: nanos(limits.alertsMaxAgeSeconds * 1000),
      // A restarted detector re-derives alerts from replayed events; their message IDs are stable,
      // so a day of duplicate tracking keeps a restart from re-notifying anyone.
      duplicate_window: nanos(86_400_000),
    },
    {
      name: DEAD_LETTERS_STREAM,
      subjects: [DEAD_LETTERS_WILDCARD],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: nanos(limits.alertsMaxAgeSeconds * 1000),
      max_bytes: DEAD_LETTERS_MAX_BYTES,
      // Dead letters carry their origin's stream and sequence as message ID: a redelivery is one letter.
      duplicate_window: nanos(86_400_000),
    },
  ];
}

/** Creates the streams, or updates their limits when they already exist. */
export async function ensureStreams(
  connection: NatsConnection,
  limits: StreamLimits,
  logger: Logger,
): Promise<void> {
  const jsm = await jetstreamManager(connection);
  for (const config of streamConfigs(limits)) {
    const name = config.name;
    try {
      await jsm.streams.info(name);
      await jsm.streams.update(name, config);
    } catch (error) {
      if (!isStreamNotFound(error)) throw error;
      await jsm.streams.add(config);
      logger.info({ stream: name }, "created JetStream stream");
    }
  }
}

function isStreamNotFound(error: unknown): boolean {
  return error instanceof Error && /stream not found/i.test(error.message);
}
