/**
 * Syslog over UDP (one datagram = one message), and what every listener shares: the frame handler
 * and the counted, once-logged refusals. TCP and TLS streams are stream-listener.ts's.
 */
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import type { Logger } from "../../../shared/src/runtime/log.js";
import type { ReceiverMetrics, Transport } from "./metrics.js";
import { readKernelUdpDrops } from "./udp-drops.js";

/** Returns whether the frame became a Postfix event (its sender then counts as a known source). */
export type FrameHandler = (frame: string, peerAddress: string, transport: Transport) => boolean;

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
export type SourcePredicate = (address: string) => boolean;

/**
 * Counts each refusal or forced close and logs the first of each reason with the peer, so that an
 * admin whose server's lines never arrive finds why in the log; the counter keeps the tally after
 * that, so that a scan or a flood cannot flood the log.
 */
export function refusals(logger: Logger, transport: Transport, count: (reason: RefusalReason) => void) {
  const logged = new Set<RefusalReason>();
  return (reason: RefusalReason, peer: string | undefined, detail: Record<string, unknown> = {}) => {
    count(reason);
    if (logged.has(reason)) return;
    logged.add(reason);
    logger.warn(
      { transport, peer, reason, ...detail },
      `syslog ${REFUSAL_CAUSE[reason]} (the first one is logged; all are counted)`,
    );
  };
}

const REFUSAL_CAUSE = {
  source_not_allowed: "sender refused: address not in SYSLOG_ALLOWED_SOURCES",
  max_connections:
    "sender refused: SYSLOG_MAX_CONNECTIONS reached, and no idle connection of a lesser sender to close",
  max_connections_per_source:
    "sender refused: it already holds SYSLOG_MAX_CONNECTIONS_PER_SOURCE connections",
  peer_not_permitted: "sender refused: certificate names no host in SYSLOG_TLS_PERMITTED_PEERS",
  idle_timeout: "connection closed: nothing received for SYSLOG_IDLE_TIMEOUT_SECONDS",
  frame_timeout: "connection closed: a frame still unfinished after SYSLOG_FRAME_TIMEOUT_SECONDS",
  evicted: "connection closed: its slot went to a preferred or known sender (SYSLOG_MAX_CONNECTIONS reached)",
  handshake_failed: "connection closed: the TLS handshake failed or timed out",
} as const;

export type RefusalReason = keyof typeof REFUSAL_CAUSE;

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
    // A UDP source address proves nothing, so a datagram never makes its sender a known source.
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
