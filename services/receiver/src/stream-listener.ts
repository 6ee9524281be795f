/**
 * Syslog over TCP and TLS (RFC 6587 framing per connection). Who gets a connection is admission.ts's
 * policy; this edge applies it, times connections out (idle, or a frame left unfinished) on one
 * sweep timer, and moves bytes to SyslogFramer and frames to the caller.
 */
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, type TLSSocket, type Server as TlsServer } from "node:tls";
import type { Logger } from "../../../shared/src/runtime/log.js";
import { SyslogFramer } from "../../../shared/src/syslog/framing.js";
import { type ConnectionLimits, ConnectionTable, type Standing } from "./admission.js";
import type { Backpressure, FrameHandler, Listener, SourcePredicate } from "./listeners.js";
import { refusals } from "./listeners.js";
import type { ReceiverMetrics, Transport } from "./metrics.js";
import { certificateNames, peerPermitted } from "./peer-names.js";
import { readTlsCredentials, type TlsFiles, watchTlsCredentials } from "./tls-credentials.js";

/** How the listener tells a mail server from a stranger (receiver.ts keeps the known sources). */
export interface Senders {
  standingOf(source: string): Standing;
  /** A stream from `source` delivered a Postfix line. */
  sentPostfix(source: string): void;
}

export interface StreamListenerOptions {
  host: string;
  port: number;
  maxMessageBytes: number;
  allows: SourcePredicate;
  limits: ConnectionLimits;
  /** Nothing received for this long closes a connection; 0: never. */
  idleTimeoutMs: number;
  /** A frame (or a TLS handshake) unfinished this long after it began closes it; 0: no limit. */
  frameTimeoutMs: number;
  senders: Senders;
  onFrame: FrameHandler;
  backpressure: Backpressure;
  metrics: ReceiverMetrics;
  logger: Logger;
  tls?: TlsFiles & {
    /** How often the files are checked for renewal; 0: never. */
    reloadSeconds: number;
    /** Lower-case names or `*.domain` patterns (peer-names.ts); empty: any certificate the CA signed. */
    permittedPeers: readonly string[];
  };
}

/** One accepted connection: the raw socket until a TLS handshake gives the socket data arrives on. */
interface Connection {
  readonly source: string;
  socket: Socket;
  lastActivityMs: number;
  /** When the unfinished frame began; undefined between frames. */
  frameStartedMs: number | undefined;
  /** Reads what the framer still holds, as at the end of the stream (serveStream sets it). */
  flush?: () => void;
}

type Close = (connection: Connection, reason: "idle_timeout" | "frame_timeout" | "evicted") => void;

export async function listenStream(options: StreamListenerOptions): Promise<Listener> {
  const transport: Transport = options.tls ? "tls" : "tcp";
  const table = new ConnectionTable<Connection>(options.limits, (source) =>
    options.senders.standingOf(source),
  );
  // The raw and the TLS socket of one connection share the peer's address and port.
  const byPeer = new Map<string, Connection>();
  const refuse = refusals(options.logger, transport, (reason) => {
    const counter = REFUSED_ON_ARRIVAL.has(reason)
      ? options.metrics.connectionsRefused
      : options.metrics.connectionsClosed;
    counter.labels(transport, reason).inc();
  });
  const close: Close = (connection, reason) => {
    refuse(reason, connection.source);
    // An overdue frame may be a count that lied long, with whole frames held behind it.
    if (reason === "frame_timeout") connection.flush?.();
    connection.socket.destroy();
  };
  const serve = (socket: Socket) => {
    const connection = byPeer.get(peerKey(socket));
    if (connection) serveStream(connection, socket, transport, options);
    else socket.destroy();
  };
  // TLS runs over sockets this server accepted (handed to tls.Server as its docs allow), so the
  // source check and the connection cap come before any handshake work.
  const secure = options.tls ? tlsLayer(options.tls, serve, refuse, options) : undefined;
  const server: Server = createServer((socket) => {
    const source = socket.remoteAddress ?? "";
    if (!options.allows(source)) {
      refuse("source_not_allowed", source);
      socket.destroy();
      return;
    }
    const admission = table.admit(source);
    if (admission.type === "refuse") {
      refuse(admission.reason, source);
      socket.destroy();
      return;
    }
    if (admission.type === "evict") close(admission.victim, "evicted");
    const connection: Connection = { source, socket, lastActivityMs: Date.now(), frameStartedMs: undefined };
    const key = peerKey(socket);
    table.add(connection);
    byPeer.set(key, connection);
    options.metrics.tcpConnections.labels(transport).inc();
    // A mail server that vanished without a FIN (power loss, a dropped route) frees its slot.
    socket.setKeepAlive(true, KEEPALIVE_MS);
    socket.once("close", () => {
      table.delete(connection);
      byPeer.delete(key);
      options.metrics.tcpConnections.labels(transport).dec();
    });
    if (secure) secure.server.emit("connection", socket);
    else serve(socket);
  });
  const stopSweeping = sweepEvery(options, () => byPeer.values(), close);
  await new Promise<void>((resolve, reject) => {
    // A port that cannot be bound must not leave the certificate watcher or the sweep running.
    const failed = (error: Error) => {
      secure?.stop();
      stopSweeping();
      reject(error);
    };
    server.once("error", failed);
    server.listen(options.port, options.host, () => {
      server.off("error", failed);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  options.logger.info({ host: options.host, port }, `listening for syslog over ${transport.toUpperCase()}`);
  return {
    transport,
    port,
    close: () =>
      new Promise((resolve) => {
        secure?.stop();
        stopSweeping();
        server.close(() => resolve());
        // rsyslog keeps its connection open forever; end it so close() completes.
        for (const connection of byPeer.values()) connection.socket.end();
      }),
  };
}

const REFUSED_ON_ARRIVAL = new Set([
  "source_not_allowed",
  "max_connections",
  "max_connections_per_source",
  "peer_not_permitted",
]);

const KEEPALIVE_MS = 60_000;

const peerKey = (socket: Socket) => `${socket.remoteAddress}|${socket.remotePort}`;

/**
 * One timer for every connection: closes the idle and the overdue. A connection paused because
 * JetStream is slow is neither: its sender may be writing, the receiver is not reading.
 */
function sweepEvery(
  { idleTimeoutMs, frameTimeoutMs }: StreamListenerOptions,
  connections: () => Iterable<Connection>,
  close: Close,
): () => void {
  const shortest = Math.min(...[idleTimeoutMs, frameTimeoutMs].filter((ms) => ms > 0));
  if (!Number.isFinite(shortest)) return () => undefined;
  const timer = setInterval(
    () => {
      const now = Date.now();
      for (const connection of [...connections()]) {
        if (connection.socket.isPaused()) continue;
        const frameStarted = connection.frameStartedMs;
        if (frameTimeoutMs > 0 && frameStarted !== undefined && now - frameStarted > frameTimeoutMs)
          close(connection, "frame_timeout");
        else if (idleTimeoutMs > 0 && now - connection.lastActivityMs > idleTimeoutMs)
          close(connection, "idle_timeout");
      }
    },
    Math.min(1000, Math.max(100, shortest / 4)),
  );
  timer.unref();
  return () => clearInterval(timer);
}

function tlsLayer(
  tls: NonNullable<StreamListenerOptions["tls"]>,
  serve: (socket: Socket) => void,
  refuse: ReturnType<typeof refusals>,
  { logger, metrics, frameTimeoutMs }: StreamListenerOptions,
): { server: TlsServer; stop: () => void } {
  const permitted = tls.permittedPeers.length > 0 ? peerPermitted(tls.permittedPeers) : undefined;
  const credentials = readTlsCredentials(tls);
  metrics.tlsCertificateExpiry.set(credentials.notAfterMs / 1000);
  const server = createTlsServer(
    {
      ...credentials.context,
      ...(tls.caFile ? { requestCert: true, rejectUnauthorized: true } : {}),
      // A handshake is a frame too: a peer that never finishes one must not keep its slot.
      ...(frameTimeoutMs > 0 ? { handshakeTimeout: frameTimeoutMs } : {}),
    },
    (socket: TLSSocket) => {
      const names = permitted ? certificateNames(socket.getPeerCertificate()) : [];
      if (permitted && !permitted(names)) {
        refuse("peer_not_permitted", socket.remoteAddress, { certificateNames: names });
        socket.destroy();
        return;
      }
      serve(socket);
    },
  );
  server.on("tlsClientError", (error: Error, socket: Socket) =>
    refuse("handshake_failed", socket.remoteAddress, { error: error.message }),
  );
  const stop =
    tls.reloadSeconds > 0
      ? watchTlsCredentials(
          tls,
          tls.reloadSeconds * 1000,
          (renewed) => {
            // New handshakes use it; connections already open keep theirs.
            server.setSecureContext(renewed.context);
            metrics.tlsCertificateExpiry.set(renewed.notAfterMs / 1000);
            metrics.tlsReloads.labels("ok").inc();
            logger.info(
              { subject: renewed.subject, notAfter: new Date(renewed.notAfterMs).toISOString() },
              "TLS certificate files changed: loaded for new connections",
            );
          },
          (error) => {
            metrics.tlsReloads.labels("failed").inc();
            logger.error(
              { error: error.message },
              "TLS certificate files changed but cannot be used: keeping the old ones",
            );
          },
        )
      : () => undefined;
  return { server, stop };
}

function serveStream(
  connection: Connection,
  socket: Socket,
  transport: Transport,
  options: StreamListenerOptions,
): void {
  const { metrics, onFrame, backpressure } = options;
  const framer = new SyslogFramer({ maxFrameBytes: options.maxMessageBytes });
  const peer = connection.source || "unknown";
  const frames = metrics.framesReceived.labels(transport);
  const bytes = metrics.bytesReceived.labels(transport);
  let sentPostfix = false;
  const deliver = (result: ReturnType<SyslogFramer["push"]>) => {
    for (const error of result.errors) metrics.framingErrors.labels(transport, error).inc();
    for (const frame of result.frames) {
      frames.inc();
      if (onFrame(frame.toString("utf8"), peer, transport) && !sentPostfix) {
        sentPostfix = true;
        options.senders.sentPostfix(connection.source);
      }
    }
  };
  connection.socket = socket;
  connection.flush = () => deliver(framer.end());
  let stopListening: (() => void) | undefined;
  socket.on("data", (chunk: Buffer) => {
    const now = Date.now();
    connection.lastActivityMs = now;
    bytes.inc(chunk.length);
    const result = framer.push(chunk);
    deliver(result);
    // A frame finished in this chunk restarts the clock for the one still open, if any.
    if (!framer.inFrame) connection.frameStartedMs = undefined;
    else if (connection.frameStartedMs === undefined || result.frames.length + result.errors.length > 0)
      connection.frameStartedMs = now;
    if (backpressure.saturated && !socket.isPaused()) {
      socket.pause();
      stopListening = backpressure.onRoom(() => {
        stopListening?.();
        stopListening = undefined;
        // The pause was ours: the sender's clock starts again.
        connection.lastActivityMs = Date.now();
        if (connection.frameStartedMs !== undefined) connection.frameStartedMs = Date.now();
        socket.resume();
      });
    }
  });
  socket.on("end", () => deliver(framer.end()));
  socket.on("error", (error) =>
    options.logger.debug({ peer, error: error.message }, "syslog connection error"),
  );
  socket.on("close", () => {
    // An abrupt close (no FIN) skips "end": whatever was buffered is lost, so count it.
    if (framer.pendingBytes > 0) metrics.framingErrors.labels(transport, "truncated_frame").inc();
    stopListening?.();
  });
}
