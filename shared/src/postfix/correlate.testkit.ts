/** Hand-built events for correlator and report tests: only the fields a test cares about, the rest defaulted. */
import type { EventKind, EventOf } from "../contracts/events.js";

type BaseField = "v" | "ts" | "host" | "program" | "daemon" | "pid";
export type EventFields<K extends EventKind> = Omit<EventOf<K>, BaseField | "kind"> &
  Partial<Pick<EventOf<K>, BaseField>>;

const DAEMON_OF: Partial<Record<EventKind, string>> = {
  queued: "qmgr",
  removed: "qmgr",
  expired: "qmgr",
  message_id: "cleanup",
  delivery: "smtp",
  bounce_notice: "bounce",
  pickup: "pickup",
};

export function event<K extends EventKind>(kind: K, fields: EventFields<K>): EventOf<K> {
  const daemon = fields.daemon ?? DAEMON_OF[kind] ?? "smtpd";
  return {
    v: 1,
    ts: "2026-04-16T06:29:10.000Z",
    host: "mail.example",
    program: `postfix/${daemon}`,
    daemon,
    pid: 100,
    ...fields,
    kind,
  } as EventOf<K>;
}

/** A delivery line with the fields tests rarely vary filled in. */
export function delivery(
  queueId: string,
  to: string,
  status: EventOf<"delivery">["status"],
  response: string,
  extra: Partial<EventFields<"delivery">> = {},
): EventOf<"delivery"> {
  const dsn = status === "sent" ? "2.0.0" : status === "deferred" ? "4.0.0" : "5.0.0";
  return event("delivery", {
    queueId,
    to,
    status,
    response,
    relay: "mx.far.example[198.51.100.5]:25",
    delay: 1,
    dsn,
    ...extra,
  });
}

export const SECOND = 1000;
export const tsAt = (ms: number): string => new Date(ms).toISOString();
