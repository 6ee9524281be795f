/**
 * Syslog transports: UDP (one datagram = one message), TCP and TLS streams (RFC 6587 framing per
 * connection). Transports only move bytes; framing is SyslogFramer's and parsing the caller's.
 */
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, type TLSSocket, type Server as TlsServer } from "node:tls";
import type { Logger } from "../../../shared/src/runtime/log.js";
import { SyslogFramer } from "../../../shared/src/syslog/framing.js";
import type { ReceiverMetrics, Transport } from "./metrics.js";
import { certificateNames, peerPermitted } from "./peer-names.js";
import { readTlsCredentials, type TlsFiles, watchTlsCredentials } from "./tls-credentials.js";
import { readKernelUdpDrops } from "./udp-drops.js";

export type FrameHandler = (frame: string, peerAddress: string, transport: Transport) => void;

export interface Backpressure {
  readonly saturated: boolean;
  onRoom(listener: () => void): () => void;
}

export interface Listener {
  readonly transport: Transport;
  readonly port: number;
  close(): Promise<void>;
}

/** Who may send, from SYSLOG_ALLOWED_SOURCES (sources.ts). */
type SourcePredicate = (address: string) => boolean;

/**
 * Counts each refusal and logs the first of each reason with the peer, so that an admin whose
 * server's lines never arrive finds why in the log; the counter keeps the tally after that.
 */
function refusals(logger: Logger, transport: Transport, count: (reason: RefusalReason) => void) {
  const logged = new Set<RefusalReason>();
  return (reason: RefusalReason, peer: string | undefined, detail: Record<string, unknown> = {}) => {
    count(reason);
    if (logged.has(reason)) return;
    logged.add(reason);
    logger.warn(
      { transport, peer, reason, ...detail },
      `syslog sender refused: ${REFUSAL_CAUSE[reason]} (the first one is logged; all are counted)`,
    );
  };
}

const REFUSAL_CAUSE = {
  source_not_allowed: "address not in SYSLOG_ALLOWED_SOURCES",
  max_connections: "SYSLOG_MAX_CONNECTIONS reached",
  peer_not_permitted: "certificate names no host in SYSLOG_TLS_PERMITTED_PEERS",
} as const;

type RefusalReason = keyof typeof REFUSAL_CAUSE;

export async function listenUdp(options: {
  host: string;
  port: number;
  maxMessageBytes: number;
  allows: SourcePredicate;
  /** SO_RCVBUF; the kernel caps it at net.core.rmem_max. Unset: the kernel's default. */
  receiveBufferBytes?: number;
  onFrame: FrameHandler;
  metrics: ReceiverMetrics;
  logger: Logger;
}): Promise<Listener> {
  const socket: UdpSocket = createSocket({
    type: options.host.includes(":") ? "udp6" : "udp4",
    ...(options.receiveBufferBytes ? { recvBufferSize: options.receiveBufferBytes } : {}),
  });
  const frames = options.metrics.framesReceived.labels("udp");
  const bytes = options.metrics.bytesReceived.labels("udp");
  const oversize = options.metrics.lines.labels("oversize");
  const notAllowed = options.metrics.lines.labels("source_not_allowed");
  const refuse = refusals(options.logger, "udp", () => notAllowed.inc());
  socket.on("message", (datagram, peer) => {
    frames.inc();
    bytes.inc(datagram.length);
    if (!options.allows(peer.address)) {
      refuse("source_not_allowed", peer.address);
      return;
    }
    if (datagram.length > options.maxMessageBytes) {
      oversize.inc();
      return;
    }
    options.onFrame(datagram.toString("utf8"), peer.address, "udp");
  });
  socket.on("error", (error) => options.logger.error({ error: error.message }, "UDP syslog socket error"));
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(options.port, options.host, () => {
      socket.off("error", reject);
      resolve();
    });
  });
  const port = socket.address().port;
  // Linux reports SO_RCVBUF doubled (bookkeeping overhead); less than asked means rmem_max capped it.
  const receiveBufferBytes = socket.getRecvBufferSize();
  options.logger.info({ host: options.host, port, receiveBufferBytes }, "listening for syslog over UDP");
  if (options.receiveBufferBytes && receiveBufferBytes < options.receiveBufferBytes) {
    options.logger.warn(
      { asked: options.receiveBufferBytes, got: receiveBufferBytes },
      "UDP receive buffer capped by the kernel: raise net.core.rmem_max to absorb bursts",
    );
  }
  options.metrics.watchUdpKernelDrops(() => readKernelUdpDrops(port));
  return { transport: "udp", port, close: () => new Promise((resolve) => socket.close(() => resolve())) };
}

export interface StreamListenerOptions {
  host: string;
  port: number;
  maxMessageBytes: number;
  allows: SourcePredicate;
  maxConnections: number;
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

export async function listenStream(options: StreamListenerOptions): Promise<Listener> {
  const transport: Transport = options.tls ? "tls" : "tcp";
  const sockets = new Set<Socket>();
  const serve = (socket: Socket) => serveStream(socket, transport, options, sockets);
  const refuse = refusals(options.logger, transport, (reason) =>
    options.metrics.connectionsRefused.labels(transport, reason).inc(),
  );
  // TLS runs over sockets this server accepted (handed to tls.Server as its docs allow), so the
  // source check and the connection cap come before any handshake work.
  const secure = options.tls ? tlsLayer(options.tls, serve, refuse, options) : undefined;
  const server: Server = createServer((socket) => {
    if (!options.allows(socket.remoteAddress ?? "")) {
      refuse("source_not_allowed", socket.remoteAddress);
      socket.destroy();
    } else if (secure) secure.server.emit("connection", socket);
    else serve(socket);
  });
  server.maxConnections = options.maxConnections;
  server.on("drop", (peer) => refuse("max_connections", peer?.remoteAddress));
  await new Promise<void>((resolve, reject) => {
    // A port that cannot be bound must not leave the certificate watcher running.
    const failed = (error: Error) => {
      secure?.stop();
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
        server.close(() => resolve());
        // rsyslog keeps its connection open forever; end it so close() completes.
        for (const socket of sockets) socket.end();
      }),
  };
}

function tlsLayer(
  tls: NonNullable<StreamListenerOptions["tls"]>,
  serve: (socket: Socket) => void,
  refuse: ReturnType<typeof refusals>,
  { logger, metrics }: StreamListenerOptions,
): { server: TlsServer; stop: () => void } {
  const permitted = tls.permittedPeers.length > 0 ? peerPermitted(tls.permittedPeers) : undefined;
  const credentials = readTlsCredentials(tls);
  metrics.tlsCertificateExpiry.set(credentials.notAfterMs / 1000);
  const server = createTlsServer(
    { ...credentials.context, ...(tls.caFile ? { requestCert: true, rejectUnauthorized: true } : {}) },
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
    logger.warn(
      { peer: socket.remoteAddress, error: error.message },
      "TLS syslog client failed the handshake",
    ),
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
  socket: Socket,
  transport: Transport,
  options: StreamListenerOptions,
  sockets: Set<Socket>,
): void {
  const { metrics, onFrame, backpressure } = options;
  const framer = new SyslogFramer({ maxFrameBytes: options.maxMessageBytes });
  const peer = socket.remoteAddress ?? "unknown";
  const frames = metrics.framesReceived.labels(transport);
  const bytes = metrics.bytesReceived.labels(transport);
  const deliver = (result: ReturnType<SyslogFramer["push"]>) => {
    for (const error of result.errors) metrics.framingErrors.labels(transport, error).inc();
    for (const frame of result.frames) {
      frames.inc();
      onFrame(frame.toString("utf8"), peer, transport);
    }
  };
  sockets.add(socket);
  metrics.tcpConnections.labels(transport).inc();
  let stopListening: (() => void) | undefined;
  socket.on("data", (chunk: Buffer) => {
    bytes.inc(chunk.length);
    deliver(framer.push(chunk));
    if (backpressure.saturated && !socket.isPaused()) {
      socket.pause();
      stopListening = backpressure.onRoom(() => {
        stopListening?.();
        stopListening = undefined;
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
    sockets.delete(socket);
    metrics.tcpConnections.labels(transport).dec();
  });
}
