/**
 * Syslog transports: UDP (one datagram = one message), TCP and TLS streams (RFC 6587 framing per
 * connection). Transports only move bytes; framing is SyslogFramer's and parsing the caller's.
 */
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { readFileSync } from "node:fs";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import type { Logger } from "../../../shared/src/runtime/log.js";
import { SyslogFramer } from "../../../shared/src/syslog/framing.js";
import type { ReceiverMetrics, Transport } from "./metrics.js";
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

const MAX_STREAM_CONNECTIONS = 1024;

export async function listenUdp(options: {
  host: string;
  port: number;
  maxMessageBytes: number;
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
  socket.on("message", (datagram, peer) => {
    frames.inc();
    bytes.inc(datagram.length);
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
  onFrame: FrameHandler;
  backpressure: Backpressure;
  metrics: ReceiverMetrics;
  logger: Logger;
  tls?: { certFile: string; keyFile: string; caFile?: string };
}

export async function listenStream(options: StreamListenerOptions): Promise<Listener> {
  const transport: Transport = options.tls ? "tls" : "tcp";
  const sockets = new Set<Socket>();
  const handle = (socket: Socket) => serveStream(socket, transport, options, sockets);
  const server: Server = options.tls
    ? createTlsServer(
        {
          cert: readFileSync(options.tls.certFile),
          key: readFileSync(options.tls.keyFile),
          ...(options.tls.caFile
            ? { ca: readFileSync(options.tls.caFile), requestCert: true, rejectUnauthorized: true }
            : {}),
        },
        handle,
      )
    : createServer(handle);
  server.maxConnections = MAX_STREAM_CONNECTIONS;
  server.on("tlsClientError", (error: Error) =>
    options.logger.warn({ error: error.message }, "TLS syslog client failed the handshake"),
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
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
        server.close(() => resolve());
        // rsyslog keeps its connection open forever; end it so close() completes.
        for (const socket of sockets) socket.end();
      }),
  };
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
