/**
 * An event's `ts` as milliseconds since the epoch: what `Date.parse(event.ts)` gives, for every
 * string. The detector places every event in time, and Date.parse took half a microsecond a call;
 * the form the receiver writes (Date#toISOString's, `2026-11-03T14:03:01.731Z`) is read here
 * digit by digit, in about a quarter of that. Whatever is not plainly that form (another producer's
 * offset, a 29th to 31st day, an hour 24) goes to Date.parse, so the two never differ.
 */
import { digits } from "../syslog/digits.js";

/** `YYYY-MM-DDTHH:MM:SS.mmmZ`: the separators and where they stand. */
const SEPARATORS: readonly [number, number][] = [
  [4, 0x2d], // -
  [7, 0x2d], // -
  [10, 0x54], // T
  [13, 0x3a], // :
  [16, 0x3a], // :
  [19, 0x2e], // .
  [23, 0x5a], // Z
];

export function eventTimeMs(ts: string): number {
  if (ts.length !== 24) return Date.parse(ts);
  for (const [at, code] of SEPARATORS) if (ts.charCodeAt(at) !== code) return Date.parse(ts);
  const year = digits(ts, 0, 4);
  const month = digits(ts, 5, 2);
  const day = digits(ts, 8, 2);
  const hour = digits(ts, 11, 2);
  const minute = digits(ts, 14, 2);
  const second = digits(ts, 17, 2);
  const millisecond = digits(ts, 20, 3);
  // Date.UTC reads years 0-99 as 1900-1999, and every month has 28 days: the rest is Date.parse's.
  if (
    !(year >= 1000 && month >= 1 && month <= 12 && day >= 1 && day <= 28) ||
    !(hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59 && second >= 0 && second <= 59) ||
    millisecond < 0
  )
    return Date.parse(ts);
  return Date.UTC(year, month - 1, day, hour, minute, second, millisecond);
}
