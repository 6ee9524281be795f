/**
 * Line → event: the one path every entry point shares (receiver frames, `postwatch parse`,
 * `postwatch replay`). Each outcome is explicit so callers can count what they did not keep.
 */
import type { PostfixEvent } from "../contracts/events.js";
import { parsePostfix } from "../postfix/parse.js";
import { parseSyslogLine } from "../syslog/parse.js";
import type { ZoneOffset } from "../syslog/time.js";

export type LineOutcome =
  | { type: "event"; event: PostfixEvent }
  /** A well-formed syslog line from another program (dovecot, opendkim, ...). */
  | { type: "not_postfix" }
  /** No syslog header could be read: the line is counted, never guessed at. */
  | { type: "bad_header" }
  | { type: "empty" };

export interface LineContext {
  referenceTime: number;
  zoneOffset?: ZoneOffset;
  /** Host to record when the line names none (e.g. the sender's address on the network). */
  fallbackHost: string;
}

export function lineToEvent(line: string, context: LineContext): LineOutcome {
  if (line.length === 0 || line === "\n") return { type: "empty" };
  const record = parseSyslogLine(line, context);
  if (record === null) return { type: "bad_header" };
  if (record.hostname === "") record.hostname = context.fallbackHost;
  const event = parsePostfix(record);
  return event === null ? { type: "not_postfix" } : { type: "event", event };
}
