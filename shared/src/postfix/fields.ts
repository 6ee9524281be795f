import type { EventKind, EventOf } from "../contracts/events.js";
import { isDigit } from "../syslog/digits.js";

/** The fields every event shares, filled once per line before its shape is known. */
export type Head = Omit<EventOf<"unparsed">, "kind" | "text">;

const INTEGER = /^\d{1,15}$/;
const BASE64 = /^[A-Za-z0-9+/]{2,}={0,2}$/;

/** 10^0 … 10^9: every one an exact double. */
const POWERS_OF_TEN = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/**
 * `text.slice(start, end)` as a number when it matches `^\d{1,15}(?:\.\d{1,9})?$`, else undefined
 * (strict: `Number("")` is 0 and `Number(" 1")` is 1, and neither belongs in an event); the same
 * double `Number()` gives, read in place. Delivery lines carry five of these, and
 * slicing them out for `Number()` was a fifth of a delivery line's cost.
 */
export function decimalAt(text: string, start: number, end: number): number | undefined {
  let i = start;
  let digits = 0;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (!isDigit(c)) break;
    digits = digits * 10 + (c - 48);
  }
  const wholeDigits = i - start;
  if (wholeDigits === 0 || wholeDigits > 15) return undefined;
  if (i === end) return digits;
  if (text.charCodeAt(i) !== 46 /* . */) return undefined;
  const fractionStart = ++i;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (!isDigit(c)) return undefined;
    digits = digits * 10 + (c - 48);
  }
  const fractionDigits = end - fractionStart;
  if (fractionDigits < 1 || fractionDigits > 9) return undefined;
  // Below 2^53 the digits and the power of ten are exact, and IEEE division rounds their quotient
  // to the nearest double: the value Number() parses. Longer numbers are left to Number().
  return wholeDigits + fractionDigits <= 15
    ? digits / (POWERS_OF_TEN[fractionDigits] as number)
    : Number(text.slice(start, end));
}

export function integer(text: string): number | undefined {
  return INTEGER.test(text) ? Number(text) : undefined;
}

/** Decodes base64 only when the result is printable ASCII, so binary blobs and words stay as logged. */
export function decodePrintable(token: string): string | undefined {
  if (token.length % 4 !== 0 || !BASE64.test(token)) return undefined;
  const text = Buffer.from(token, "base64").toString("latin1");
  return text.length > 0 && isPrintable(text) ? text : undefined;
}

function isPrintable(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/**
 * Short IDs are upper-case hex; long ones (`enable_long_queue_ids`) are base-52 time digits, then
 * `z`, then the inode, so the `z` separator sits at index 10 or later.
 */
export function isQueueId(token: string): boolean {
  return isQueueIdAt(token, token.length);
}

/** isQueueId(text.slice(0, n)), without the slice. */
export function isQueueIdAt(text: string, n: number): boolean {
  if (n < 6 || n > 32 || n > text.length) return false;
  let hex = true;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    const digit = c >= 48 && c <= 57;
    const upper = c >= 65 && c <= 90;
    if (!digit && !upper && !(c >= 97 && c <= 122)) return false;
    if (!digit && !(upper && c <= 70)) hex = false;
  }
  if (hex) return true;
  const sep = text.indexOf("z", 10);
  return sep > 0 && sep < n - 1 && n >= 12;
}

/** Control, format (bidi overrides, zero-width) and line/paragraph separator characters. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
const EVERY_INVISIBLE = new RegExp(INVISIBLE.source, "gu");

/**
 * `text` with every control, format or line separator character written out as `\xHH` or
 * `\uHHHH`: a name an attacker chose (a SASL user name) can then neither break a line in a log or
 * an alert nor hide text, and stays recognisable.
 */
export function visible(text: string): string {
  if (isPrintable(text) || !INVISIBLE.test(text)) return text;
  return text.replace(EVERY_INVISIBLE, (char) => {
    const code = char.codePointAt(0) as number;
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

/** Longest token tried as a queue ID before `: `; keeps the scan bounded on hostile lines. */
const MAX_QUEUE_ID = 32;

/** `<queueid>: ` or `NOQUEUE: ` at the start of the message; returns the ID's length, or 0. */
export function leadingQueueId(text: string): number {
  // Native search for the separator, then one pass over the ID: a loop to find the ID's end and a
  // second to validate it were each a few percent of parsing.
  const end = text.indexOf(": ");
  if (end < 6 || end > MAX_QUEUE_ID) return 0;
  if (end === 7 && text.startsWith("NOQUEUE")) return end;
  return isQueueIdAt(text, end) ? end : 0;
}

/**
 * `warning: 9BECF3F19D: sender_canonical_maps map lookup problem ...`: the daemons that log a
 * message's trouble as `msg_warn("%s: ...", queue_id)` put the queue ID after the severity.
 */
export function afterQueueId(head: Head, text: string): string {
  if (head.queueId !== undefined) return text;
  const idLength = leadingQueueId(text);
  if (idLength === 0) return text;
  if (idLength !== 7 || !text.startsWith("NOQUEUE")) head.queueId = text.slice(0, idLength);
  return text.slice(idLength + 2);
}

/**
 * Whether a text starts with one of `prefixes`, as one anchored regex: it picks its candidates by the
 * first character, where a startsWith per prefix cost ~10 ns each on every line that reaches the
 * loose shapes (TLS and postscreen lines tried some forty).
 */
export function prefixPattern(prefixes: readonly string[]): RegExp {
  return new RegExp(`^(?:${prefixes.map(escapeRegExp).join("|")})`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Head fields first, then the kind's. Object spread of a head whose optional fields vary is a
 * megamorphic copy, measured ~30x slower than these explicit stores on the hot path.
 */
export function withHead<T extends { kind: EventKind }>(head: Head, body: T): Head & T {
  const event = {
    v: head.v,
    ts: head.ts,
    host: head.host,
    program: head.program,
    daemon: head.daemon,
    pid: head.pid,
  } as Head & T;
  if (head.service !== undefined) event.service = head.service;
  if (head.instance !== undefined) event.instance = head.instance;
  if (head.queueId !== undefined) event.queueId = head.queueId;
  return Object.assign(event, body);
}
