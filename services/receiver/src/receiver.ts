/**
 * The receiver: syslog listeners → line parsing → bounded JetStream publisher.
 * `createReceiver` takes its dependencies explicitly; index.ts and the CLI wire them.
 */
import { randomUUID } from "node:crypto";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Registry } from "prom-client";
import { type LineContext, lineToEvent } from "../../../shared/src/pipeline/lines.js";
import { ParserCache } from "../../../shared/src/pipeline/parser-cache.js";
import type { ReadinessCheck } from "../../../shared/src/runtime/http.js";
import { PipelinedPublisher } from "../../../shared/src/runtime/jetstream-publish.js";
import type { Logger } from "../../../shared/src/runtime/log.js";
import { zoneOffsetFor } from "../../../shared/src/syslog/time.js";
import { KnownSources } from "./admission.js";
import type { ReceiverConfig } from "./config.js";
import { type Listener, listenUdp } from "./listeners.js";
import { createReceiverMetrics, type ReceiverMetrics } from "./metrics.js";
import { EventPublisher } from "./publisher.js";
import { openToEveryone, type SourceRange, sourceFilter } from "./sources.js";
import { listenStream, type Senders } from "./stream-listener.js";

/** Known sources kept (first come); a flood of addresses beyond it stays unknown. */
const MAX_KNOWN_SOURCES = 4096;

export interface Receiver {
  readonly listeners: readonly Listener[];
  readiness: ReadinessCheck;
  /** Stops listening, waits (bounded) for queued events to be acknowledged, then gives up on the rest. */
  drain(timeoutMs?: number): Promise<void>;
}

export interface ReceiverDependencies {
  config: ReceiverConfig;
  logger: Logger;
  registry: Registry;
  connection: NatsConnection;
  /** Wall clock, for the year of BSD timestamps. Injected so tests can pin it. */
  now?: () => number;
}

export async function createReceiver({
  config,
  logger,
  registry,
  connection,
  now = Date.now,
}: ReceiverDependencies): Promise<Receiver> {
  const metrics = createReceiverMetrics(registry);
  const jetstream = new PipelinedPublisher(connection);
  const publisher = new EventPublisher(
    (subject, payload, messageId) => jetstream.publish(subject, payload, messageId),
    {
      maxQueue: config.RECEIVER_QUEUE_MAX_EVENTS,
      partitions: config.EVENT_PARTITIONS,
      maxInFlight: 64,
      retryDelayMs: 1000,
      maxBatchEvents: config.RECEIVER_BATCH_MAX_EVENTS,
      maxBatchChars: 256 * 1024,
      flushMs: config.RECEIVER_BATCH_FLUSH_MS,
      producerId: randomUUID(),
    },
    metrics,
    logger,
  );
  const zoneOffset = zoneOffsetFor(config.SYSLOG_TIMEZONE);
  const outcomes = {
    event: metrics.lines.labels("postfix"),
    not_postfix: metrics.lines.labels("not_postfix"),
    bad_header: metrics.lines.labels("bad_header"),
    empty: metrics.lines.labels("empty"),
  };
  let loggedBadHeader = false;
  // One for all listeners, as the parser's module state was before: frames name no connection, and
  // every cache entry is checked against the line, so interleaved senders only cost misses.
  const cache = new ParserCache();
  const onFrame = (frame: string, peerAddress: string) => {
    const context: LineContext = { referenceTime: now(), zoneOffset, fallbackHost: peerAddress, cache };
    const outcome = lineToEvent(frame, context);
    outcomes[outcome.type].inc();
    if (outcome.type === "event") {
      publisher.offer(outcome.event);
      return true;
    }
    if (outcome.type === "bad_header" && !loggedBadHeader) {
      // Once per process: a misconfigured sender would otherwise flood the log; the counter keeps the tally.
      loggedBadHeader = true;
      logger.warn(
        { peer: peerAddress, bytes: frame.length },
        'syslog message without a readable header (counted in postwatch_receiver_lines_total{outcome="bad_header"})',
      );
    }
    return false;
  };

  const common = {
    host: config.SYSLOG_HOST,
    maxMessageBytes: config.SYSLOG_MAX_MESSAGE_BYTES,
    allows: sourceFilter(config.SYSLOG_ALLOWED_SOURCES),
    onFrame,
    metrics,
    logger,
  };
  const starting: Promise<Listener>[] = [];
  if (config.SYSLOG_UDP_PORT !== 0)
    starting.push(
      listenUdp({
        ...common,
        port: config.SYSLOG_UDP_PORT,
        receiveBufferBytes: config.SYSLOG_UDP_RECEIVE_BUFFER_BYTES,
      }),
    );
  const stream = {
    ...common,
    limits: {
      maxConnections: config.SYSLOG_MAX_CONNECTIONS,
      maxPerSource: config.SYSLOG_MAX_CONNECTIONS_PER_SOURCE,
    },
    idleTimeoutMs: config.SYSLOG_IDLE_TIMEOUT_SECONDS * 1000,
    frameTimeoutMs: config.SYSLOG_FRAME_TIMEOUT_SECONDS * 1000,
    senders: senders(config.SYSLOG_PREFERRED_SOURCES, metrics),
    backpressure: publisher,
  };
  if (config.SYSLOG_TCP_PORT !== 0) starting.push(listenStream({ ...stream, port: config.SYSLOG_TCP_PORT }));
  if (config.SYSLOG_TLS_PORT !== 0 && config.SYSLOG_TLS_CERT_FILE && config.SYSLOG_TLS_KEY_FILE) {
    starting.push(
      listenStream({
        ...stream,
        port: config.SYSLOG_TLS_PORT,
        tls: {
          certFile: config.SYSLOG_TLS_CERT_FILE,
          keyFile: config.SYSLOG_TLS_KEY_FILE,
          caFile: config.SYSLOG_TLS_CA_FILE,
          permittedPeers: config.SYSLOG_TLS_PERMITTED_PEERS,
          reloadSeconds: config.SYSLOG_TLS_RELOAD_SECONDS,
        },
      }),
    );
  }
  if (openToEveryone(config.SYSLOG_HOST, config.SYSLOG_ALLOWED_SOURCES)) {
    // Anyone who reaches the port can write lines that raise alerts, or bury real ones.
    logger.warn(
      { host: config.SYSLOG_HOST },
      "syslog listeners take lines from every address: set SYSLOG_ALLOWED_SOURCES to the mail servers' addresses",
    );
  }
  const results = await Promise.allSettled(starting);
  const listeners = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failure = results.find((r) => r.status === "rejected");
  if (failure) {
    // One port taken must not leave the other listeners bound behind a receiver that never started.
    await Promise.all(listeners.map((l) => l.close()));
    throw failure.reason;
  }

  return {
    listeners,
    readiness: () => ({
      ready: listeners.length > 0,
      detail:
        listeners.length > 0
          ? `syslog listeners: ${listeners.map((l) => `${l.transport}/${l.port}`).join(", ")}`
          : "no syslog listener enabled",
    }),
    async drain(timeoutMs = 5000) {
      await Promise.all(listeners.map((l) => l.close()));
      const timedOut = await Promise.race([
        publisher.flushed().then(() => false),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(true), timeoutMs).unref()),
      ]);
      if (timedOut) {
        logger.warn(
          { pending: publisher.pending },
          "shutdown: events still unacknowledged by JetStream were dropped",
        );
        publisher.abandon();
      }
      jetstream.close();
    },
  };
}

/** Preferred by configuration, known by what they sent: shared by the TCP and TLS listeners. */
function senders(preferredRanges: readonly SourceRange[], metrics: ReceiverMetrics): Senders {
  const preferred = preferredRanges.length > 0 ? sourceFilter(preferredRanges) : () => false;
  const known = new KnownSources(MAX_KNOWN_SOURCES);
  return {
    standingOf: (source) => (preferred(source) ? "preferred" : known.has(source) ? "known" : "unknown"),
    sentPostfix(source) {
      if (known.learn(source)) metrics.knownSources.set(known.size);
    },
  };
}
