/**
 * Postfix's numbers as Prometheus series, at parity with the postfix_exporter forks. Never an IP, an
 * address, a user or a queue ID in a label. Label values come from metric-labels.ts's vocabularies
 * plus `other`, and each family holds at most MAX_LABEL_SETS label combinations: past it, new
 * combinations are counted under `other` in every label, so no sequence of lines, however hostile,
 * grows /metrics past the bound docs/threat-model.md gives.
 */
import { Counter, type Registry } from "prom-client";
import type { PostfixEvent } from "../../../shared/src/contracts/events.js";
import { TalliedCounter } from "../../../shared/src/runtime/tallied-counter.js";
import { TalliedHistogram } from "../../../shared/src/runtime/tallied-histogram.js";
import { createLabellers, type FoldedLabel, HostLabels, OTHER } from "./metric-labels.js";

const DELAY_BUCKETS = [0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 21_600, 86_400];

/** Label combinations per family; one more, all `other`, takes the rest. */
export const MAX_LABEL_SETS = 1000;

/** Series (one per histogram bucket) each label combination makes, family by family. */
const SERIES_PER_LABEL_SET = {
  counters: 15,
  // Buckets, +Inf, _sum and _count, for the three histograms below.
  histograms: 6 + 3 + (8 + 3) + (13 + 3),
} as const;

/**
 * The most series Postfix's families can make, whatever the input: every family at its cap, plus
 * the folds counter (one series per label name).
 */
export const MAX_SERIES =
  (MAX_LABEL_SETS + 1) * (SERIES_PER_LABEL_SET.counters + SERIES_PER_LABEL_SET.histograms) + 12;

/** Host label values: the configured hosts, plus this many first come and this many proven. */
export const HOST_LABELS = { firstCome: 128, proven: 128 } as const;

/**
 * A family's `labels`, capped at MAX_LABEL_SETS combinations: vocabularies bound each label, this
 * bounds their product, which a sender choosing every field of its lines could otherwise fill.
 */
function capped<T>(labels: (...values: string[]) => T, onFold: () => void) {
  // Each combination's child is kept, in a tree of maps by label value (no key string built per
  // event): prom-client's labels() re-reads and re-checks the values on every call, and this runs
  // for every event.
  const root: LabelTree<T> = new Map();
  let combinations = 0;
  let folded: T | undefined;
  return {
    labels(...values: string[]): T {
      let node = root;
      const last = values.length - 1;
      for (let i = 0; i < last && node !== undefined; i++)
        node = node.get(values[i] as string) as LabelTree<T>;
      const known = node?.get(values[last] as string) as T | undefined;
      if (known !== undefined) return known;
      if (combinations < MAX_LABEL_SETS) {
        const child = labels(...values);
        let branch = root;
        for (let i = 0; i < last; i++) {
          const value = values[i] as string;
          let next = branch.get(value) as LabelTree<T> | undefined;
          if (next === undefined) {
            next = new Map();
            branch.set(value, next);
          }
          branch = next;
        }
        branch.set(values[last] as string, child);
        combinations++;
        return child;
      }
      onFold();
      folded ??= labels(...values.map(() => OTHER));
      return folded;
    },
  };
}

/** Label value → the next label's tree, or, for the last label, the child. */
type LabelTree<T> = Map<string, LabelTree<T> | T>;

export function createPostfixMetrics(registry: Registry, options: { hosts?: readonly string[] } = {}) {
  const registers = [registry];
  const folded = new Counter({
    name: "postwatch_detector_metric_labels_folded_total",
    help: "Values from log lines counted under label value other: not in the label's vocabulary, past the host or service cap, or (label=label_set) past a family's cap on label combinations.",
    labelNames: ["label"],
    registers,
  });
  const onFold = (label: FoldedLabel | "label_set") => folded.labels(label).inc();
  const hosts = new HostLabels(options.hosts ?? [], HOST_LABELS, onFold);
  const counter = (name: string, help: string, labelNames: string[]) => {
    // This runs for every event: counted in plain numbers, handed to prom-client at a scrape.
    const family = new TalliedCounter({ name, help, labelNames, registers });
    return capped(
      (...values) => family.labels(...values),
      () => onFold("label_set"),
    );
  };
  const histogram = (name: string, help: string, labelNames: string[], buckets: number[]) => {
    const family = new TalliedHistogram({ name, help, labelNames, buckets, registers });
    return capped(
      (...values) => family.labels(...values),
      () => onFold("label_set"),
    );
  };
  return {
    hosts,
    label: createLabellers({ hosts, onFold }),
    events: counter("postfix_events_total", "Parsed Postfix log lines by host and event kind.", [
      "host",
      "kind",
    ]),
    connects: counter("postfix_smtpd_connects_total", "SMTP client connections.", ["host", "service"]),
    disconnects: counter("postfix_smtpd_disconnects_total", "SMTP client disconnections.", [
      "host",
      "service",
    ]),
    lostConnections: counter(
      "postfix_smtpd_lost_connections_total",
      "Connections lost or timed out, by SMTP stage.",
      ["host", "stage", "reason"],
    ),
    saslFailures: counter(
      "postfix_smtpd_sasl_authentication_failures_total",
      "Failed SASL authentications by mechanism.",
      ["host", "mechanism"],
    ),
    saslLogins: counter(
      "postfix_smtpd_sasl_authenticated_messages_total",
      "Messages submitted after a successful SASL login, by method.",
      ["host", "method"],
    ),
    rejects: counter(
      "postfix_smtpd_rejects_total",
      "Rejects and reject warnings by stage, SMTP code and category.",
      ["host", "action", "stage", "code", "category"],
    ),
    queued: counter("postfix_qmgr_messages_inserted_total", "Messages entering the active queue.", ["host"]),
    queuedSize: histogram(
      "postfix_qmgr_messages_inserted_size_bytes",
      "Size of messages entering the active queue.",
      ["host"],
      [1e3, 1e4, 1e5, 1e6, 1e7, 5e7],
    ),
    queuedRecipients: histogram(
      "postfix_qmgr_messages_inserted_recipients",
      "Recipients per message entering the active queue.",
      ["host"],
      [1, 2, 4, 8, 16, 32, 64, 128],
    ),
    expired: counter(
      "postfix_qmgr_messages_expired_total",
      "Messages returned to sender after the queue lifetime.",
      ["host"],
    ),
    deliveries: counter(
      "postfix_deliveries_total",
      "Delivery attempts by delivering daemon, status and DSN class.",
      ["host", "daemon", "status", "dsn_class"],
    ),
    deliveryDelay: histogram(
      "postfix_delivery_delay_seconds",
      "Delivery delay per stage (before_qmgr, in_qmgr, conn_setup, transmission).",
      ["host", "daemon", "stage"],
      DELAY_BUCKETS,
    ),
    bounceNotices: counter("postfix_bounce_notices_total", "Notifications generated by the bounce daemon.", [
      "host",
      "notice",
      "recipient",
    ]),
    tls: counter(
      "postfix_tls_connections_total",
      "TLS sessions established, by direction, protocol and cipher family (AES-256-GCM, CHACHA20-POLY1305, RC4, ...).",
      ["host", "direction", "protocol", "cipher"],
    ),
    postscreen: counter("postfix_postscreen_actions_total", "postscreen verdicts and events.", [
      "host",
      "action",
    ]),
    diagnostics: counter("postfix_log_messages_total", "warning, error, fatal and panic lines by daemon.", [
      "host",
      "daemon",
      "level",
    ]),
    unparsed: counter(
      "postfix_unparsed_lines_total",
      "Postfix lines no known shape matched (kept as unparsed events).",
      ["host", "daemon"],
    ),
  };
}

export type PostfixMetrics = ReturnType<typeof createPostfixMetrics>;

const DELAY_STAGES = [
  ["beforeQmgr", "before_qmgr"],
  ["inQmgr", "in_qmgr"],
  ["connSetup", "conn_setup"],
  ["transmission", "transmission"],
] as const;

export function observePostfixEvent(metrics: PostfixMetrics, event: PostfixEvent): void {
  const { label } = metrics;
  metrics.hosts.observe(event);
  const host = label.host(event.host);
  metrics.events.labels(host, event.kind).inc();
  switch (event.kind) {
    case "connect":
      metrics.connects.labels(host, label.service(event.service ?? "smtp")).inc();
      break;
    case "disconnect":
      metrics.disconnects.labels(host, label.service(event.service ?? "smtp")).inc();
      break;
    case "lost_connection":
    case "timeout":
    case "too_many_errors":
      metrics.lostConnections.labels(host, label.stage(event.stage), event.kind).inc();
      break;
    case "sasl_auth_failed":
      metrics.saslFailures.labels(host, label.mechanism(event.mechanism)).inc();
      break;
    case "client":
      if (event.saslMethod)
        metrics.saslLogins.labels(host, label.mechanism(event.saslMethod.toUpperCase())).inc();
      break;
    case "reject":
      metrics.rejects
        .labels(
          host,
          label.action(event.action),
          label.stage(event.stage),
          label.code(String(event.smtpCode ?? "")),
          event.category,
        )
        .inc();
      break;
    case "queued":
      metrics.queued.labels(host).inc();
      metrics.queuedSize.labels(host).observe(event.size);
      metrics.queuedRecipients.labels(host).observe(event.nrcpt);
      break;
    case "expired":
      metrics.expired.labels(host).inc();
      break;
    case "delivery": {
      const daemon = label.daemon(event.daemon);
      metrics.deliveries.labels(host, daemon, event.status, label.dsnClass(event.dsn)).inc();
      if (event.delays) {
        for (const [field, stage] of DELAY_STAGES)
          metrics.deliveryDelay.labels(host, daemon, stage).observe(event.delays[field]);
      }
      break;
    }
    case "bounce_notice":
      metrics.bounceNotices.labels(host, event.notice, event.recipient).inc();
      break;
    case "tls":
      metrics.tls
        .labels(host, event.direction, label.protocol(event.protocol), label.cipher(event.cipher))
        .inc();
      break;
    case "postscreen":
      metrics.postscreen.labels(host, label.postscreenAction(event.action)).inc();
      break;
    case "warning":
    case "error":
    case "fatal":
    case "panic":
      metrics.diagnostics.labels(host, label.daemon(event.daemon), event.kind).inc();
      break;
    case "unparsed":
      metrics.unparsed.labels(host, label.daemon(event.daemon)).inc();
      break;
    default:
      break;
  }
}
