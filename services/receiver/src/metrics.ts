import { Counter, Gauge, type Registry } from "prom-client";
import { TalliedCounter } from "../../../shared/src/runtime/tallied-counter.js";

export type Transport = "udp" | "tcp" | "tls";

/** Receiver series. Labels are bounded sets: transport, outcome, reason, event kind. */
export function createReceiverMetrics(registry: Registry) {
  const registers = [registry];
  let udpKernelDrops: () => number | undefined = () => undefined;
  let reportedUdpKernelDrops = 0;
  let queuedEvents: () => number = () => 0;
  return {
    /** Where the UDP listener's kernel drop count comes from; read at each scrape. */
    watchUdpKernelDrops(source: () => number | undefined) {
      udpKernelDrops = source;
    },
    /** Where the publish queue's length comes from; read at each scrape, so it counts open batches too. */
    watchPublishQueue(source: () => number) {
      queuedEvents = source;
    },
    udpKernelDrops: new Counter({
      name: "postwatch_receiver_udp_kernel_drops_total",
      help: "Syslog datagrams the kernel dropped because the UDP receive buffer was full (Linux /proc/net/udp).",
      registers,
      collect() {
        const total = udpKernelDrops();
        if (total !== undefined && total > reportedUdpKernelDrops) {
          this.inc(total - reportedUdpKernelDrops);
          reportedUdpKernelDrops = total;
        }
      },
    }),
    // Counted per frame: in plain numbers, handed to prom-client at a scrape.
    framesReceived: new TalliedCounter({
      name: "postwatch_receiver_frames_received_total",
      help: "Syslog messages received (one UDP datagram or one TCP frame each).",
      labelNames: ["transport"],
      registers,
    }),
    bytesReceived: new Counter({
      name: "postwatch_receiver_received_bytes_total",
      help: "Bytes received from syslog senders.",
      labelNames: ["transport"],
      registers,
    }),
    framingErrors: new Counter({
      name: "postwatch_receiver_framing_errors_total",
      help: "Stream bytes discarded by TCP framing (oversize frame, bad octet count, truncated at close).",
      labelNames: ["transport", "reason"],
      registers,
    }),
    // Counted per line: in plain numbers, handed to prom-client at a scrape.
    lines: new TalliedCounter({
      name: "postwatch_receiver_lines_total",
      help: "Syslog messages by outcome: postfix (became an event), not_postfix, bad_header, empty, oversize, source_not_allowed (UDP).",
      labelNames: ["outcome"],
      registers,
    }),
    eventsPublished: new Counter({
      name: "postwatch_receiver_events_published_total",
      help: "Events acknowledged by JetStream, by event kind.",
      labelNames: ["kind"],
      registers,
    }),
    eventsDropped: new Counter({
      name: "postwatch_receiver_events_dropped_total",
      help: "Events lost before JetStream acknowledged them, by reason.",
      labelNames: ["reason"],
      registers,
    }),
    publishErrors: new Counter({
      name: "postwatch_receiver_publish_errors_total",
      help: "JetStream publish attempts (of a batch of events) that failed and were retried.",
      registers,
    }),
    publishDuplicates: new Counter({
      name: "postwatch_receiver_publish_duplicates_total",
      help: "Batch publishes JetStream dropped as duplicates: a retry of a batch it had stored before its ack was lost.",
      registers,
    }),
    queueLength: new Gauge({
      name: "postwatch_receiver_publish_queue_events",
      help: "Events waiting for or awaiting a JetStream acknowledgement.",
      registers,
      collect() {
        this.set(queuedEvents());
      },
    }),
    connectionsRefused: new Counter({
      name: "postwatch_receiver_connections_refused_total",
      help: "Syslog stream connections closed on arrival, by reason: source_not_allowed, max_connections, max_connections_per_source, peer_not_permitted (TLS).",
      labelNames: ["transport", "reason"],
      registers,
    }),
    connectionsClosed: new Counter({
      name: "postwatch_receiver_connections_closed_total",
      help: "Syslog stream connections the receiver closed, by reason: idle_timeout, frame_timeout (a frame left unfinished), evicted (its slot given to a preferred or known sender).",
      labelNames: ["transport", "reason"],
      registers,
    }),
    knownSources: new Gauge({
      name: "postwatch_receiver_known_sources",
      help: "Addresses that have sent Postfix lines over TCP or TLS, preferred when connections run short.",
      registers,
    }),
    tlsCertificateExpiry: new Gauge({
      name: "postwatch_receiver_tls_certificate_expiry_timestamp_seconds",
      help: "When the syslog listener's TLS certificate expires (Unix time): alert well before it.",
      registers,
    }),
    tlsReloads: new Counter({
      name: "postwatch_receiver_tls_reloads_total",
      help: "TLS certificate files that changed and were loaded (ok) or could not be used (failed; the old ones stay).",
      labelNames: ["result"],
      registers,
    }),
    tcpConnections: new Gauge({
      name: "postwatch_receiver_connections",
      help: "Open syslog stream connections.",
      labelNames: ["transport"],
      registers,
    }),
  };
}

export type ReceiverMetrics = ReturnType<typeof createReceiverMetrics>;
