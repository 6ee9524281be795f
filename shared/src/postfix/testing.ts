/** Test-only helpers: records as the syslog parser would hand them over, and events minus the head. */
import type { PostfixEvent } from "../contracts/events.js";
import type { SyslogRecord } from "../syslog/record.js";

export const TEST_TIME = Date.UTC(2026, 10, 3, 14, 3, 1, 731);

export function record(program: string, message: string, opts: Partial<SyslogRecord> = {}): SyslogRecord {
  return {
    format: "rfc3339",
    timestamp: TEST_TIME,
    hostname: "mx1",
    appName: program,
    pid: 4242,
    message,
    ...opts,
  };
}

const HEAD_KEYS = new Set(["v", "ts", "host", "program", "daemon", "pid"]);

/** The event without the fields every event shares, for whole-object assertions per kind. */
export function body(event: PostfixEvent | null): Record<string, unknown> | null {
  if (event === null) return null;
  return Object.fromEntries(Object.entries(event).filter(([key]) => !HEAD_KEYS.has(key)));
}

/** A `connect` event whose pid tells it apart, for tests that follow events through a pipe. */
export const connectEvent = (pid: number): PostfixEvent => ({
  v: 1,
  kind: "connect",
  ts: "2026-02-23T11:57:42.000Z",
  host: "mx1",
  program: "postfix/smtpd",
  daemon: "smtpd",
  pid,
  client: { host: "unknown", ip: "176.103.49.30" },
});
