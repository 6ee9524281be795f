/**
 * What an upstream expectation is compared with: an event's fields under one set of names, and the
 * exporters' counters as predicates over events.
 */
import type { Endpoint, PostfixEvent } from "../../shared/src/contracts/events.js";

export type FieldView = Record<string, string | number | undefined>;

/** The remote end a line is about: the client, the server delivered to, or the TLS peer. */
function endpointOf(event: PostfixEvent): Endpoint | undefined {
  switch (event.kind) {
    case "delivery":
      return event.relayEndpoint;
    case "tls":
      return event.peer;
    case "anvil":
      return event.clientIp === undefined ? undefined : { host: "", ip: event.clientIp };
    default:
      return "client" in event ? event.client : undefined;
  }
}

function field<K extends string>(event: PostfixEvent, key: K): string | number | undefined {
  const value = (event as unknown as Record<string, unknown>)[key];
  return typeof value === "string" || typeof value === "number" ? value : undefined;
}

export function viewOf(event: PostfixEvent): FieldView {
  const endpoint = endpointOf(event);
  return {
    syslogHost: event.host,
    program: event.program,
    pid: event.pid ?? undefined,
    host: endpoint?.host,
    ip: endpoint?.ip,
    port: endpoint?.port,
    queueId: event.queueId,
    status: event.kind === "expired" ? "expired" : field(event, "status"),
    from: field(event, "from"),
    to: field(event, "to"),
    origTo: field(event, "origTo"),
    relay: field(event, "relay"),
    dsn: field(event, "dsn"),
    smtpCode: field(event, "smtpCode"),
    stage: field(event, "stage"),
    helo: field(event, "helo"),
    saslUsername: field(event, "saslUsername"),
    saslMethod: field(event, "saslMethod"),
    saslReason: event.kind === "sasl_auth_failed" ? event.reason : undefined,
    messageId: field(event, "messageId"),
    bounceQueueId: field(event, "bounceQueueId"),
    forwardedQueueId: field(event, "forwardedQueueId"),
  };
}

type Count = (event: PostfixEvent) => number;
const when =
  (matches: (event: PostfixEvent) => boolean): Count =>
  (event) =>
    matches(event) ? 1 : 0;
const postscreen = (actions: readonly string[]) =>
  when((e) => e.kind === "postscreen" && actions.includes(e.action));
const delivery = (daemon: string, statuses: readonly string[]) =>
  when((e) => e.kind === "delivery" && e.daemon === daemon && statuses.includes(e.status));
const ALL_STATUSES = ["sent", "bounced", "deferred", "expired", "undeliverable"];

/** kumina's and Hsn723's counter names (postfix_exporter_test.go). */
const EXPORTER_COUNTERS: Record<string, Count> = {
  removedCount: when((e) => e.kind === "removed"),
  saslFailedCount: when((e) => e.kind === "sasl_auth_failed"),
  expiredCount: when((e) => e.kind === "expired"),
  smtpdMessagesProcessed: when((e) => e.kind === "client"),
  outgoingTLS: when((e) => e.kind === "tls" && e.direction === "out"),
  smtpMessagesProcessed: delivery("smtp", ALL_STATUSES),
  smtpBounced: delivery("smtp", ["bounced"]),
  smtpDeferred: delivery("smtp", ["deferred"]),
  virtualDelivered: delivery("virtual", ["sent"]),
  bounceNonDelivery: when((e) => e.kind === "bounce_notice" && e.notice === "non-delivery"),
  postscreenConnects: postscreen(["CONNECT"]),
  postscreenHangups: postscreen(["HANGUP"]),
  postscreenPasses: postscreen(["PASS NEW", "PASS OLD"]),
  postscreenAccessList: postscreen(["ALLOWLISTED", "WHITELISTED", "DENYLISTED", "BLACKLISTED"]),
  postscreenConnectsRejected: when(
    (e) => e.kind === "reject" && e.daemon === "postscreen" && e.stage === "CONNECT",
  ),
  postscreenRejects: when((e) => e.kind === "reject" && e.daemon === "postscreen" && e.stage !== "CONNECT"),
  psdnsblRankSampleCount: when((e) => e.kind === "postscreen" && e.dnsblRank !== undefined),
  psdnsblRankSampleSum: (e) => (e.kind === "postscreen" ? (e.dnsblRank ?? 0) : 0),
};

/** sergeymakinen's metrics, by name and labels (`postfix_statuses_total{status="sent",subprogram="smtp"}`). */
function sergeymakinenCounter(counter: string): Count | undefined {
  const match = /^(postfix_[a-z_]+_total)\{(.*)\}$/.exec(counter);
  if (match === null) return undefined;
  const labels = Object.fromEntries(
    [...(match[2] as string).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
  );
  const daemon = (e: PostfixEvent) => labels.subprogram === undefined || e.daemon === labels.subprogram;
  switch (match[1]) {
    case "postfix_connects_total":
      return when((e) => e.kind === "connect" && daemon(e));
    case "postfix_disconnects_total":
      return when((e) => e.kind === "disconnect" && daemon(e));
    case "postfix_lost_connections_total":
      return when((e) => e.kind === "lost_connection" && daemon(e));
    case "postfix_login_failures_total":
      return when((e) => e.kind === "sasl_auth_failed" && e.mechanism === labels.method && daemon(e));
    case "postfix_not_resolved_hostnames_total":
      return when(
        (e) => e.kind === "warning" && e.text.includes(" does not resolve to address ") && daemon(e),
      );
    case "postfix_milter_actions_total":
      return when((e) => e.kind === "reject" && e.action === `milter-${labels.action}` && daemon(e));
    case "postfix_qmgr_statuses_total":
      return when((e) => e.kind === "expired" && labels.status === "expired");
    case "postfix_statuses_total":
      return when((e) => e.kind === "delivery" && e.status === labels.status && daemon(e));
    case "postfix_postscreen_actions_total": {
      const action = labels.action as string;
      if (!action.startsWith("NOQUEUE: ")) return postscreen([action]);
      const stage = action.slice(9);
      return when((e) => e.kind === "reject" && e.daemon === "postscreen" && e.stage === stage);
    }
    default:
      return undefined;
  }
}

/** The events-to-number function for an upstream counter, or undefined when it has no postwatch meaning. */
export function counterOf(counter: string): Count | undefined {
  return EXPORTER_COUNTERS[counter] ?? sergeymakinenCounter(counter);
}
