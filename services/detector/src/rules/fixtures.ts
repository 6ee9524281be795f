/**
 * Test helpers: hand-built events typed by the contract (the parser is written in parallel),
 * and a replay loop that drives the engine the way the detector does.
 */
import type { Alert } from "../../../../shared/src/contracts/alerts.js";
import type { Endpoint, EventOf, PostfixEvent } from "../../../../shared/src/contracts/events.js";
import { AuthSessions } from "../engine/auth-sessions.js";
import { DetectionEngine } from "../engine/engine.js";
import { loadRules } from "./index.js";

export const T0 = Date.parse("2026-11-03T14:00:00Z");
export const MINUTE = 60;
export const HOUR = 3600;

export interface Origin {
  /** Seconds after T0. */
  at: number;
  host?: string;
  pid?: number | null;
  program?: string;
  queueId?: string;
}

function base({ at, host = "mx1", pid = 4242, program = "postfix/smtpd", queueId }: Origin) {
  return {
    v: 1 as const,
    ts: new Date(T0 + at * 1000).toISOString(),
    host,
    program,
    daemon: program.split("/").at(-1) ?? program,
    pid,
    ...(queueId ? { queueId } : {}),
  };
}

export const client = (ip: string, host = "unknown"): Endpoint => ({ host, ip });

export const connect = (o: Origin & { ip: string }): EventOf<"connect"> => ({
  ...base(o),
  kind: "connect",
  client: client(o.ip),
});

export const saslFailed = (
  o: Origin & { ip: string; mechanism?: string; user?: string; reason?: string },
): EventOf<"sasl_auth_failed"> => ({
  ...base(o),
  kind: "sasl_auth_failed",
  client: client(o.ip),
  mechanism: o.mechanism ?? "LOGIN",
  reason: o.reason ?? "authentication failure",
  ...(o.user ? { saslUsername: o.user } : {}),
});

export const disconnect = (
  o: Origin & { ip: string; authOk?: number; authTotal?: number },
): EventOf<"disconnect"> => ({
  ...base(o),
  kind: "disconnect",
  client: client(o.ip),
  commands: {
    ehlo: { ok: 1, total: 1 },
    ...(o.authTotal ? { auth: { ok: o.authOk ?? 0, total: o.authTotal } } : {}),
    quit: { ok: 1, total: 1 },
  },
});

export const tooManyErrors = (o: Origin & { ip: string; stage?: string }): EventOf<"too_many_errors"> => ({
  ...base(o),
  kind: "too_many_errors",
  client: client(o.ip),
  stage: o.stage ?? "AUTH",
});

export const login = (o: Origin & { ip: string; user: string }): EventOf<"client"> => ({
  ...base(o),
  kind: "client",
  client: client(o.ip),
  saslMethod: "PLAIN",
  saslUsername: o.user,
});

/** One smtpd session: connect, `failures` failed AUTH warnings, optional success, disconnect with auth=ok/total. */
export function authSession(
  o: Origin & {
    ip: string;
    failures: number;
    mechanism?: string;
    user?: string;
    succeeds?: boolean;
    reason?: string;
  },
): PostfixEvent[] {
  const events: PostfixEvent[] = [connect(o)];
  for (let i = 0; i < o.failures; i += 1) events.push(saslFailed({ ...o, at: o.at + i }));
  const ok = o.succeeds ? 1 : 0;
  if (o.succeeds && o.user)
    events.push(login({ ...o, user: o.user, at: o.at + o.failures, queueId: "4B1C31D6FA" }));
  events.push(disconnect({ ...o, at: o.at + o.failures + 1, authOk: ok, authTotal: o.failures + ok }));
  return events;
}

/** Feeds events in order, advancing engine time to each event's time as a replay would; then to `endAt`. */
export function replay(events: readonly PostfixEvent[], options: ReplayOptions = {}): ReplayResult {
  const engine = options.engine ?? new DetectionEngine({ rules: loadRules(options.overrides ?? {}) });
  // The correlation stage's session bookkeeping, which the engine takes its SASL counts from.
  const sessions = new AuthSessions();
  const alerts: Alert[] = [];
  for (const event of events) {
    alerts.push(...engine.advance(Date.parse(event.ts)));
    alerts.push(...engine.process(event, sessions.observe(event)));
  }
  if (options.endAt !== undefined) alerts.push(...engine.advance(T0 + options.endAt * 1000));
  return { engine, alerts, of: (rule) => alerts.filter((a) => a.rule === rule) };
}

export interface ReplayOptions {
  engine?: DetectionEngine;
  overrides?: Record<string, unknown>;
  /** Seconds after T0 to advance to after the last event. */
  endAt?: number;
}

export interface ReplayResult {
  engine: DetectionEngine;
  alerts: Alert[];
  of(rule: string): Alert[];
}

/** Events sorted by time, so interleaved generators read like a log. */
export const byTime = (events: PostfixEvent[]): PostfixEvent[] =>
  [...events].sort((a, b) => Date.parse(a.ts) - Date.parse(b.ts));

export const tls = (
  o: Origin & { ip: string; protocol: string; cipher: string; direction?: "in" | "out" },
): EventOf<"tls"> => ({
  ...base(o),
  kind: "tls",
  direction: o.direction ?? "in",
  trust: "Anonymous",
  peer: client(o.ip),
  protocol: o.protocol,
  cipher: o.cipher,
  bits: 128,
});

export const debug = (
  o: Origin & { text: string; ip?: string; authUsername?: string },
): EventOf<"debug"> => ({
  ...base(o),
  kind: "debug",
  text: o.text,
  ...(o.ip ? { client: client(o.ip) } : {}),
  ...(o.authUsername ? { authUsername: o.authUsername } : {}),
});

export const reject = (
  o: Origin & {
    ip: string;
    category: EventOf<"reject">["category"];
    to: string;
    reason: string;
    code?: number;
  },
): EventOf<"reject"> => ({
  ...base(o),
  kind: "reject",
  action: "reject",
  stage: "RCPT",
  smtpCode: o.code ?? 554,
  reason: o.reason,
  category: o.category,
  from: "probe@example.net",
  to: o.to,
  proto: "ESMTP",
  helo: "pc",
  client: client(o.ip),
});

export const delivery = (
  o: Origin & { to: string; status: EventOf<"delivery">["status"]; response: string; relay?: string },
): EventOf<"delivery"> => ({
  ...base({ program: "postfix/smtp", ...o }),
  kind: "delivery",
  to: o.to,
  relay: o.relay ?? "mx.far.example[203.0.113.25]:25",
  delay: 1.2,
  dsn: o.status === "sent" ? "2.0.0" : o.status === "deferred" ? "4.7.0" : "5.7.1",
  status: o.status,
  response: o.response,
});

type Recipient = EventOf<"message">["recipients"][number];

export const recipient = (
  to: string,
  status: Recipient["status"] = "sent",
  response?: string,
): Recipient => ({
  to,
  status,
  dsn: status === "sent" ? "2.0.0" : "5.0.0",
  relay: "mx.far.example[203.0.113.25]:25",
  ...(response ? { response } : {}),
});

export const message = (
  o: Origin & {
    recipients: Recipient[];
    from?: string;
    user?: string;
    ip?: string;
    bounceOf?: string;
    localUid?: number;
  },
): EventOf<"message"> => ({
  ...base({ program: "postfix/qmgr", queueId: "1A9B71D801", ...o }),
  kind: "message",
  ...(o.ip ? { client: client(o.ip) } : {}),
  ...(o.user ? { saslUsername: o.user, saslMethod: "LOGIN" } : {}),
  ...(o.localUid === undefined ? {} : { localUid: o.localUid }),
  from: o.from ?? (o.user ? o.user : ""),
  firstSeen: new Date(T0 + o.at * 1000 - 50_000).toISOString(),
  recipients: o.recipients,
  bounceQueueIds: [],
  forwardedQueueIds: [],
  ...(o.bounceOf ? { bounceOf: o.bounceOf } : {}),
  end: "removed",
});

/** `warning:`, `fatal:` or `panic:` lines. */
export const diagnostic = (o: Origin & { kind: "warning" | "fatal" | "panic"; text: string }): PostfixEvent =>
  ({ ...base(o), kind: o.kind, text: o.text }) as EventOf<"warning" | "fatal" | "panic">;

/**
 * Seed 002: a SASL brute force hidden in TLS debug noise. The forum copy has no hostname and no
 * year; the bare-format parser gives host "" and the year is inferred. One session per guess.
 */
export const SEED_002_IP = "176.103.49.30";
export function seed002Session(at: number, pid: number): PostfixEvent[] {
  const o = { at, pid, host: "" };
  return [
    connect({ ...o, ip: SEED_002_IP }),
    debug({ ...o, text: "SSL_accept:before/accept initialization" }),
    debug({ ...o, text: "SSL_accept:SSLv3 read client hello B" }),
    tls({ ...o, ip: SEED_002_IP, protocol: "TLSv1.2", cipher: "RC4-SHA" }),
    debug({ ...o, at: at + 1, text: "Read 16 chars: EHLO localhost??" }),
    debug({
      ...o,
      at: at + 1,
      text: "Read 45 chars: AUTH PLAIN [redacted]",
      authUsername: "admin@fipick.com",
    }),
    saslFailed({ ...o, at: at + 3, ip: SEED_002_IP, mechanism: "PLAIN", user: "admin@fipick.com" }),
    debug({ ...o, at: at + 3, text: "Write 42 chars: 435 4.7.8 Error: authentication failed: " }),
  ];
}
