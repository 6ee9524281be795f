import type { EventKind, EventOf } from "../contracts/events.js";

/** The fields every event shares, filled once per line before its shape is known. */
export type Head = Omit<EventOf<"unparsed">, "kind" | "text">;

const DECIMAL = /^\d{1,15}(?:\.\d{1,9})?$/;
const INTEGER = /^\d{1,15}$/;
const BASE64 = /^[A-Za-z0-9+/]{2,}={0,2}$/;

/** Strict: `Number("")` is 0 and `Number(" 1")` is 1, and neither belongs in an event. */
export function decimal(text: string): number | undefined {
  return DECIMAL.test(text) ? Number(text) : undefined;
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
  const n = token.length;
  if (n < 6 || n > 32) return false;
  let hex = true;
  for (let i = 0; i < n; i++) {
    const c = token.charCodeAt(i);
    const digit = c >= 48 && c <= 57;
    const upper = c >= 65 && c <= 90;
    if (!digit && !upper && !(c >= 97 && c <= 122)) return false;
    if (!digit && !(upper && c <= 70)) hex = false;
  }
  if (hex) return true;
  const sep = token.indexOf("z", 10);
  return sep > 0 && sep < n - 1 && n >= 12;
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
