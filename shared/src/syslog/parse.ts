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
import { keptCopy, sliceEquals } from "../postfix/recurring.js";
import { digits, isDigit } from "./digits.js";
import type { SyslogRecord } from "./record.js";
import { MINUTE_CHARS, SyslogCache } from "./syslog-cache.js";
import { UTC, utcOf, type WallClock, wallClockToUtc, type ZoneOffset } from "./time.js";

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

/**
 * Returns null for a line with no recognisable syslog header; the caller counts it. The cache only
 * makes it faster: pass one per stream of lines (a fresh one each call gives the same records).
 */
export function parseSyslogLine(
  line: string,
  options: SyslogParseOptions,
  cache: SyslogCache = new SyslogCache(),
): SyslogRecord | null {
  let rest = stripLineEnd(line);
  let facility: number | undefined;
  let severity: number | undefined;
  if (rest.charCodeAt(0) === 60 /* < */) {
    const close = rest.indexOf(">");
    const pri = close < 0 ? -1 : readPri(rest, close);
    if (pri < 0) return null;
    facility = pri >> 3;
    severity = pri & 7;
    rest = rest.slice(close + 1);
    if (rest.startsWith("1 ")) return parseRfc5424(rest.slice(2), facility, severity, options, cache);
  }
  const header = readTimestamp(rest, options, cache);
  if (!header) return null;
  return taggedRecord(rest, header.length, header, facility, severity, cache);
}

/** Largest PRI: facility 23 (local7) × 8 + severity 7 (RFC 5424 §6.2.1). */
const MAX_PRI = 191;

/**
 * `<PRI>` as RFC 5424 writes it: 1 to 3 digits, no leading zero but `<0>`, at most 191; -1 for
 * anything else (`<-1>`, `<192>`, `< 13>`, `<1e2>`, `<>`), which makes the line a counted bad header.
 */
function readPri(text: string, close: number): number {
  if (close < 2 || close > 4 || (close > 2 && text.charCodeAt(1) === 48)) return -1;
  let pri = 0;
  for (let i = 1; i < close; i++) {
    const c = text.charCodeAt(i);
    if (!isDigit(c)) return -1;
    pri = pri * 10 + (c - 48);
  }
  return pri <= MAX_PRI ? pri : -1;
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

function readTimestamp(
  text: string,
  options: SyslogParseOptions,
  cache: SyslogCache,
): TimestampHeader | null {
  // Only a month name starts a BSD timestamp: RFC 3339 lines skip the regex.
  const first = text.charCodeAt(0);
  const bsd = first >= 65 && first <= 90 ? BSD_TIME.exec(text) : null;
  if (bsd) {
    const month = MONTHS[bsd[1] as string];
    if (month === undefined) return null;
    const timestamp = bsdToUtc(month, bsd, options, cache);
    return timestamp === null ? null : { format: "rfc3164", timestamp, length: bsd[0].length };
  }
  const space = text.indexOf(" ");
  if (space < 19) return null;
  const timestamp = rfc3339(text, 0, space, options.zoneOffset ?? UTC, cache);
  return timestamp === null ? null : { format: "rfc3339", timestamp, length: space + 1 };
}

function bsdToUtc(
  month: number,
  m: RegExpExecArray,
  options: SyslogParseOptions,
  cache: SyslogCache,
): number | null {
  const day = Number(m[2]);
  const hour = Number(m[3]);
  const minute = Number(m[4]);
  const second = Number(m[5]);
  if (day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  const offset = options.zoneOffset ?? UTC;
  const year = utcYearOf(options.referenceTime, cache);
  const fields = { year, month, day, hour, minute, second };
  const thisYear = wallClockToUtc(fields, offset, cache.lastDate);
  // A line stamped in December that arrives in January belongs to last year.
  return thisYear > options.referenceTime + DAY_MS
    ? wallClockToUtc({ ...fields, year: year - 1 }, offset, cache.lastDate)
    : thisYear;
}

/** The reference time's UTC year, remembered per hour: the receiver asks once per line. */
function utcYearOf(ms: number, cache: SyslogCache): number {
  const hour = Math.floor(ms / 3_600_000);
  if (hour !== cache.yearHour) {
    cache.yearHour = hour;
    cache.yearOfHour = new Date(ms).getUTCFullYear();
  }
  return cache.yearOfHour;
}

/**
 * `YYYY-MM-DDTHH:MM:SS[.fraction][Z|±HH:MM]` (a space may stand for the T) → ms since the epoch, or
 * null. Read by hand rather than by regex: it runs on every line and the regex plus Date.UTC was a
 * tenth of a replay. Accepts exactly what RFC3339_REFERENCE (time.test.ts) accepts.
 */
export function parseRfc3339(
  text: string,
  zoneOffset: ZoneOffset,
  cache: SyslogCache = new SyslogCache(),
): number | null {
  return rfc3339(text, 0, text.length, zoneOffset, cache);
}

/** parseRfc3339 of `text.slice(at, length)`, without the slice. */
function rfc3339(
  text: string,
  at: number,
  length: number,
  zoneOffset: ZoneOffset,
  cache: SyslogCache,
): number | null {
  if (length - at < 19) return null;
  const second = digits(text, at + 17, 2);
  if (second < 0) return null;
  // Log lines come in time order, many to a minute: each minute is read once.
  if (!isLastMinute(text, at, cache)) {
    const minute = readMinute(text, at);
    if (minute === null) return null;
    for (let i = 0; i < MINUTE_CHARS; i++) cache.minuteCodes[i] = text.charCodeAt(at + i);
    cache.minuteValid = true;
    cache.minute = minute;
    cache.minuteUtc = utcOf(minute, cache.lastDate);
  }
  let i = at + 19;
  let millis = 0;
  if (text.charCodeAt(i) === 46 /* . */) {
    const start = ++i;
    while (i < length && i - start < 10 && isDigit(text.charCodeAt(i))) {
      // The first three fraction digits are the milliseconds; the rest are truncated.
      if (i - start < 3) millis += (text.charCodeAt(i) - 48) * (i === start ? 100 : i === start + 1 ? 10 : 1);
      i++;
    }
    if (i === start || i - start > 9) return null;
  }
  let zoneMs: number | undefined;
  if (i < length) {
    const sign = text.charCodeAt(i);
    if (sign === 90 /* Z */ && i + 1 === length) zoneMs = 0;
    else if ((sign === 43 || sign === 45) && i + 6 === length && text.charCodeAt(i + 3) === 58) {
      const zoneHours = digits(text, i + 1, 2);
      const zoneMinutes = digits(text, i + 4, 2);
      if (zoneHours < 0 || zoneMinutes < 0) return null;
      zoneMs = (sign === 45 ? -1 : 1) * (zoneHours * 60 + zoneMinutes) * 60_000;
    } else return null;
  }
  if (zoneMs === undefined)
    return wallClockToUtc({ ...cache.minute, second }, zoneOffset, cache.lastDate) + millis;
  // utcOf is linear in the seconds (Date.UTC's MakeTime too), which are never range-checked.
  return cache.minuteUtc + second * 1000 + millis - zoneMs;
}

/**
 * Whether `text` at `at` starts with the cache's minute, kept as character codes and compared code
 * by code from the end, where minutes differ: `startsWith` of the kept text cost a sixth of the
 * header's time, and sliceEquals against it (a string cut from a line, which V8 reads through an
 * indirection) an eighth more than these codes. Kept per minute, not per second: a log of a few
 * lines a second would read every second afresh.
 */
function isLastMinute(text: string, at: number, cache: SyslogCache): boolean {
  if (!cache.minuteValid) return false;
  const codes = cache.minuteCodes;
  for (let i = MINUTE_CHARS - 1; i >= 0; i--) if (text.charCodeAt(at + i) !== codes[i]) return false;
  return true;
}

/** `YYYY-MM-DDTHH:MM:` at `at` with every field in range, or null; its wall clock at second 0. */
function readMinute(text: string, at: number): WallClock | null {
  const year = digits(text, at, 4);
  const monthDigits = digits(text, at + 5, 2);
  const day = digits(text, at + 8, 2);
  const hour = digits(text, at + 11, 2);
  const minute = digits(text, at + 14, 2);
  if (year < 0 || monthDigits < 0 || day < 0 || hour < 0 || minute < 0) return null;
  const month = monthDigits - 1;
  const t = text.charCodeAt(at + 10);
  if (text.charCodeAt(at + 4) !== 45 || text.charCodeAt(at + 7) !== 45 || (t !== 84 && t !== 32)) return null;
  if (text.charCodeAt(at + 13) !== 58 || text.charCodeAt(at + 16) !== 58) return null;
  if (month > 11 || day < 1 || day > 31 || hour > 23 || minute > 59) return null;
  return { year, month, day, hour, minute, second: 0 };
}

/**
 * rsyslog's forwarding templates write the tag as `%syslogtag:1:32%`: a longer tag
 * (`postfix/submission/smtpd[1234567]:` is 34 characters) arrives cut at 32, without its colon.
 */
const RSYSLOG_TAG_LIMIT = 32;

/**
 * `host tag[pid]: msg` or, with the host stripped, `tag[pid]: msg`, read from `text` at `start` by
 * index: no intermediate substrings or objects on the path every line takes.
 */
function taggedRecord(
  text: string,
  start: number,
  header: TimestampHeader,
  facility: number | undefined,
  severity: number | undefined,
  cache: SyslogCache,
): SyslogRecord | null {
  const first = text.indexOf(" ", start);
  if (first === -1 || first === start) return null;
  let hostname = "";
  let tagStart = start;
  let tagEnd = first;
  let messageStart = first + 1;
  let cut = false;
  if (text.charCodeAt(first - 1) !== 58 /* : */) {
    const second = text.indexOf(" ", first + 1);
    tagStart = first + 1;
    tagEnd = second === -1 ? text.length : second;
    cut = tagEnd - tagStart === RSYSLOG_TAG_LIMIT && text.charCodeAt(tagEnd - 1) !== 58;
    if (tagEnd === tagStart || (text.charCodeAt(tagEnd - 1) !== 58 && !cut)) return null;
    hostname = sliceEquals(text, start, first, cache.hostname)
      ? cache.hostname
      : readHostname(text, start, first, cache);
    messageStart = second === -1 ? text.length : second + 1;
  }
  // The tag without its colon: `postfix/smtpd[123]` or `postfix`.
  const end = cut ? tagEnd : tagEnd - 1;
  const open = text.indexOf("[", tagStart);
  let appName: string;
  let pid: number | null = null;
  if (open === -1 || open >= end || text.charCodeAt(end - 1) !== 93 /* ] */) {
    // A pid cut short by rsyslog is not the process's pid: better none than a wrong session.
    appName = cache.appNames.get(text, tagStart, open !== -1 && open < end ? open : end);
  } else {
    appName = cache.appNames.get(text, tagStart, open);
    pid = readPid(text, open + 1, end - 1);
  }
  return {
    format: header.format,
    facility,
    severity,
    timestamp: header.timestamp,
    hostname,
    appName,
    pid,
    message: text.slice(messageStart),
  };
}

function readHostname(text: string, start: number, end: number, cache: SyslogCache): string {
  cache.hostname = keptCopy(text, start, end);
  return cache.hostname;
}

/** `Number(text.slice(start, end))` if it is a safe integer, else null; plain digits read in place. */
function readPid(text: string, start: number, end: number): number | null {
  if (end - start >= 1 && end - start <= 15) {
    let value = 0;
    let i = start;
    for (; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      value = value * 10 + (c - 48);
    }
    if (i === end) return value;
  }
  const number = Number(text.slice(start, end));
  return Number.isSafeInteger(number) ? number : null;
}

/** RFC 5424 after `<PRI>1 `: TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]. */
function parseRfc5424(
  text: string,
  facility: number,
  severity: number,
  options: SyslogParseOptions,
  cache: SyslogCache,
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
  const timestamp =
    time === "-" ? options.referenceTime : parseRfc3339(time, options.zoneOffset ?? UTC, cache);
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
