/**
 * Syslog header parsing: one frame or file line in, one SyslogRecord out. Pure: the caller supplies
 * the reference time (for the year BSD timestamps lack) and the zone of zone-less timestamps.
 *
 * Accepted shapes (see docs/syslog.md):
 *   <PRI>1 2026-11-03T14:03:01.123+01:00 mx1 postfix 4242 - - msg      RFC 5424
 *   <PRI>Nov  3 14:03:01 mx1 postfix/smtpd[4242]: msg                   RFC 3164 (rsyslog default)
 *   <PRI>2026-11-03T14:03:01.123456+01:00 mx1 postfix/smtpd[4242]: msg  RSYSLOG_ForwardFormat
 *   2026-11-03T14:03:01.731011+00:00 mx1 postfix/smtpd[123]: msg        Debian mail.log
 *   Nov 03 14:03:01 mx1 postfix/smtpd[123]: msg                          maillog_file, traditional files
 *   Feb 23 11:57:42 postfix/smtpd[32451]: msg                           host stripped (forum posts)
 */
import type { SyslogRecord } from "./record.js";
import { UTC, wallClockToUtc, type ZoneOffset } from "./time.js";

export interface SyslogParseOptions {
  /** Now, in ms: BSD timestamps get the year that puts them at most a day after this. */
  referenceTime: number;
  /** Zone of timestamps that carry none; UTC by default. */
  zoneOffset?: ZoneOffset;
}

const MONTHS: Record<string, number> = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
};
const DAY_MS = 86_400_000;
const BSD_TIME = /^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) /;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})?$/;

/** Returns null for a line with no recognisable syslog header; the caller counts it. */
export function parseSyslogLine(line: string, options: SyslogParseOptions): SyslogRecord | null {
  let rest = stripLineEnd(line);
  let facility: number | undefined;
  let severity: number | undefined;
  if (rest.charCodeAt(0) === 60 /* < */) {
    const close = rest.indexOf(">");
    if (close < 2 || close > 4) return null;
    const pri = Number(rest.slice(1, close));
    if (!Number.isInteger(pri) || pri > 191) return null;
    facility = pri >> 3;
    severity = pri & 7;
    rest = rest.slice(close + 1);
    if (rest.startsWith("1 ")) return parseRfc5424(rest.slice(2), facility, severity, options);
  }
  const header = readTimestamp(rest, options);
  if (!header) return null;
  const body = parseTaggedBody(rest.slice(header.length));
  if (!body) return null;
  return { format: header.format, facility, severity, timestamp: header.timestamp, ...body };
}

function stripLineEnd(line: string): string {
  let end = line.length;
  while (end > 0 && (line.charCodeAt(end - 1) === 10 || line.charCodeAt(end - 1) === 13)) end--;
  return end === line.length ? line : line.slice(0, end);
}

interface TimestampHeader {
  format: SyslogRecord["format"];
  timestamp: number;
  /** Characters consumed, including the separating space. */
  length: number;
}

function readTimestamp(text: string, options: SyslogParseOptions): TimestampHeader | null {
  const bsd = BSD_TIME.exec(text);
  if (bsd) {
    const month = MONTHS[bsd[1] as string];
    if (month === undefined) return null;
    const timestamp = bsdToUtc(month, bsd, options);
    return timestamp === null ? null : { format: "rfc3164", timestamp, length: bsd[0].length };
  }
  const space = text.indexOf(" ");
  if (space < 19) return null;
  const timestamp = parseRfc3339(text.slice(0, space), options.zoneOffset ?? UTC);
  return timestamp === null ? null : { format: "rfc3339", timestamp, length: space + 1 };
}

function bsdToUtc(month: number, m: RegExpExecArray, options: SyslogParseOptions): number | null {
  const day = Number(m[2]);
  const hour = Number(m[3]);
  const minute = Number(m[4]);
  const second = Number(m[5]);
  if (day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  const offset = options.zoneOffset ?? UTC;
  const year = new Date(options.referenceTime).getUTCFullYear();
  const fields = { year, month, day, hour, minute, second };
  const thisYear = wallClockToUtc(fields, offset);
  // A line stamped in December that arrives in January belongs to last year.
  return thisYear > options.referenceTime + DAY_MS
    ? wallClockToUtc({ ...fields, year: year - 1 }, offset)
    : thisYear;
}

export function parseRfc3339(text: string, zoneOffset: ZoneOffset): number | null {
  const m = RFC3339.exec(text);
  if (!m) return null;
  const fields = {
    year: Number(m[1]),
    month: Number(m[2]) - 1,
    day: Number(m[3]),
    hour: Number(m[4]),
    minute: Number(m[5]),
    second: Number(m[6]),
  };
  if (fields.month > 11 || fields.day < 1 || fields.day > 31 || fields.hour > 23 || fields.minute > 59) {
    return null;
  }
  const millis = m[7] ? Math.floor(Number(`0${m[7]}`) * 1000) : 0;
  const zone = m[8];
  if (!zone) return wallClockToUtc(fields, zoneOffset) + millis;
  const utc = Date.UTC(fields.year, fields.month, fields.day, fields.hour, fields.minute, fields.second);
  if (zone === "Z") return utc + millis;
  const sign = zone.startsWith("-") ? -1 : 1;
  const zoneMinutes = Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6));
  return utc + millis - sign * zoneMinutes * 60_000;
}

/** `host tag[pid]: msg` or, with the host stripped, `tag[pid]: msg`. */
function parseTaggedBody(
  text: string,
): Pick<SyslogRecord, "hostname" | "appName" | "pid" | "message"> | null {
  const first = text.indexOf(" ");
  if (first <= 0) return null;
  const firstToken = text.slice(0, first);
  if (firstToken.endsWith(":"))
    return { hostname: "", ...splitTag(firstToken), message: text.slice(first + 1) };
  const second = text.indexOf(" ", first + 1);
  const tagToken = second === -1 ? text.slice(first + 1) : text.slice(first + 1, second);
  if (!tagToken.endsWith(":")) return null;
  return {
    hostname: firstToken,
    ...splitTag(tagToken),
    message: second === -1 ? "" : text.slice(second + 1),
  };
}

function splitTag(token: string): { appName: string; pid: number | null } {
  const tag = token.slice(0, -1);
  const open = tag.indexOf("[");
  if (open === -1 || !tag.endsWith("]")) return { appName: tag, pid: null };
  const pid = Number(tag.slice(open + 1, -1));
  return { appName: tag.slice(0, open), pid: Number.isSafeInteger(pid) ? pid : null };
}

/** RFC 5424 after `<PRI>1 `: TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]. */
function parseRfc5424(
  text: string,
  facility: number,
  severity: number,
  options: SyslogParseOptions,
): SyslogRecord | null {
  const fields: string[] = [];
  let position = 0;
  for (let i = 0; i < 5; i++) {
    const space = text.indexOf(" ", position);
    if (space === -1) return null;
    fields.push(text.slice(position, space));
    position = space + 1;
  }
  const [time, hostname, appName, procId] = fields as [string, string, string, string, string];
  const timestamp = time === "-" ? options.referenceTime : parseRfc3339(time, options.zoneOffset ?? UTC);
  if (timestamp === null) return null;
  const messageStart = skipStructuredData(text, position);
  if (messageStart === -1) return null;
  let message = text.slice(messageStart);
  if (message.charCodeAt(0) === 0xfeff) message = message.slice(1);
  const pid = Number(procId);
  return {
    format: "rfc5424",
    facility,
    severity,
    timestamp,
    hostname: hostname === "-" ? "" : hostname,
    appName: appName === "-" ? "" : appName,
    pid: procId !== "-" && Number.isSafeInteger(pid) ? pid : null,
    // rsyslog's template puts a space between SD and MSG and the message keeps its own leading space.
    message: message.trimStart(),
  };
}

/** Returns the index where MSG starts, or -1 when the structured data is malformed. */
function skipStructuredData(text: string, start: number): number {
  if (text.charCodeAt(start) === 45 /* - */) return start + 1 < text.length ? start + 2 : text.length;
  let i = start;
  while (text.charCodeAt(i) === 91 /* [ */) {
    let inQuotes = false;
    for (i++; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 92 /* \ */ && inQuotes) i++;
      else if (c === 34 /* " */) inQuotes = !inQuotes;
      else if (c === 93 /* ] */ && !inQuotes) break;
    }
    if (i >= text.length) return -1;
    i++;
  }
  if (i === start) return -1;
  return i < text.length ? i + 1 : text.length;
}
