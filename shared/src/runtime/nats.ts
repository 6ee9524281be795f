/**
 * NATS connection and JetStream topology. Every service connects the same way (reconnect forever,
 * status changes logged once each) and declares the streams it uses idempotently, so services can
 * start in any order.
 */
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import {
  DiscardPolicy,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from "@nats-io/jetstream";
import {
  connect,
  credsAuthenticator,
  type NatsConnection,
  nanos,
  TimeoutError,
} from "@nats-io/transport-node";
import {
  ALERTS_STREAM,
  ALERTS_WILDCARD,
  DEAD_LETTERS_STREAM,
  DEAD_LETTERS_WILDCARD,
  EVENTS_STREAM,
  EVENTS_WILDCARD,
  FACTS_STREAM,
  FACTS_WILDCARD,
} from "../contracts/subjects.js";
import type { Logger } from "./log.js";

export interface NatsSettings {
  servers: string[];
  /** Client name shown by `nats server report connections`. */
  name: string;
  credsFile?: string;
  user?: string;
  password?: string;
  token?: string;
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
    ...(settings.token ? { token: settings.token } : {}),
  }).catch((error: Error) => {
    // The servers hold no credentials: natsSettings lifted them out of NATS_URL.
    throw new NatsUnavailableError(
      `cannot connect to NATS at ${settings.servers.join(", ")}: ${error.message}`,
    );
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

/** How the streams are kept: their limits, and how many copies (NATS_STREAM_REPLICAS). */
export interface StreamLayout {
  limits: StreamLimits;
  replicas: number;
}

export function streamConfigs(layout: StreamLayout): (Partial<StreamConfig> & { name: string })[] {
  const { limits } = layout;
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
      num_replicas: layout.replicas,
    },
    {
      // The partitioned detector's facts (DETECTOR_STAGE): kept as long as the events they came from.
      name: FACTS_STREAM,
      subjects: [FACTS_WILDCARD],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: nanos(limits.eventsMaxAgeSeconds * 1000),
      max_bytes: limits.eventsMaxBytes,
      // A correlator redoing a batch after a restart publishes its facts with the same IDs.
      duplicate_window: nanos(300_000),
      num_replicas: layout.replicas,
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
      num_replicas: layout.replicas,
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
      num_replicas: layout.replicas,
    },
  ];
}

/**
 * A stream cannot be kept with NATS_STREAM_REPLICAS copies on this server: an operator fixes the
 * setting or the cluster, so the message names both.
 */
export class StreamReplicasError extends Error {
  override readonly name = "StreamReplicasError";
}

/**
 * Refuses more than one copy on a server outside a cluster. JetStream refuses to create such a
 * stream, but (2.9) accepts raising an existing one's count while still keeping one copy: without
 * this check the setting would look applied and protect nothing.
 */
export function checkReplicasSupported(connection: NatsConnection, replicas: number): void {
  if (replicas === 1 || connection.info?.cluster) return;
  throw new StreamReplicasError(
    `NATS_STREAM_REPLICAS is ${replicas}, but the NATS server ${connection.info?.server_name ?? ""} is not part of a cluster and keeps one copy of a stream: set NATS_STREAM_REPLICAS=1, or point NATS_URL at a JetStream cluster of at least ${replicas} servers`,
  );
}

/**
 * Creates the streams, or updates their limits and replica count when they already exist
 * (JetStream moves a stream between 1, 3 and 5 copies online).
 */
export async function ensureStreams(
  connection: NatsConnection,
  layout: StreamLayout,
  logger: Logger,
): Promise<void> {
  checkReplicasSupported(connection, layout.replicas);
  const jsm = await jetstreamManager(connection);
  for (const config of streamConfigs(layout)) {
    const name = config.name;
    await withReplicasNamed(name, layout.replicas, () =>
      declareUntilAnswered(async () => {
        let existing: StreamConfig;
        try {
          existing = (await jsm.streams.info(name)).config;
        } catch (error) {
          if (!isStreamNotFound(error)) throw error;
          await jsm.streams.add(config);
          logger.info({ stream: name, replicas: layout.replicas }, "created JetStream stream");
          return;
        }
        await jsm.streams.update(name, config);
        if (existing.num_replicas !== layout.replicas)
          logger.info(
            { stream: name, from: existing.num_replicas, to: layout.replicas },
            "changed the JetStream stream's replica count",
          );
      }),
    );
  }
}

/**
 * Services starting together on a cluster declare the same streams at once, and nats-server (2.9)
 * leaves some of the concurrent creations and updates of one stream unanswered, or reports a stream
 * that another service's creation has announced but not yet placed as not found when it is updated:
 * such a declaration is made again after a short pause (finding the stream then), up to
 * DECLARE_ATTEMPTS times.
 */
const DECLARE_ATTEMPTS = 4;
const DECLARE_PAUSE_MS = 250;

export async function declareUntilAnswered(declare: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await declare();
    } catch (error) {
      const racing = error instanceof TimeoutError || isStreamNotFound(error);
      if (attempt >= DECLARE_ATTEMPTS || !racing) throw error;
      await sleep(DECLARE_PAUSE_MS * attempt);
    }
  }
}

/**
 * Runs a stream declaration; with more than one copy asked, a failure (too few servers for the
 * copies, a cluster without a leader) is reported with the stream and NATS_STREAM_REPLICAS named.
 */
export async function withReplicasNamed<T>(
  stream: string,
  replicas: number,
  declare: () => Promise<T>,
): Promise<T> {
  try {
    return await declare();
  } catch (error) {
    if (replicas === 1) throw error;
    throw new StreamReplicasError(
      `cannot declare JetStream stream ${stream} with NATS_STREAM_REPLICAS=${replicas}: ${(error as Error).message}`,
    );
  }
}

function isStreamNotFound(error: unknown): boolean {
  return error instanceof Error && /stream not found/i.test(error.message);
}
