/**
 * Wall-clock → UTC conversion for timestamps that carry no zone (BSD syslog, `Nov  3 14:03:01`).
 * The resolver is built once per configured zone at the edge and passed into the pure parsers.
 */

/** Returns the zone's offset from UTC, in ms, at the given instant. */
export type ZoneOffset = (utcMs: number) => number;

export const UTC: ZoneOffset = () => 0;

export function zoneOffsetFor(timeZone: string): ZoneOffset {
  if (timeZone === "UTC" || timeZone === "Etc/UTC") return UTC;
  // Throws RangeError on an unknown zone: config validation relies on that.
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
  });
  const exact: ZoneOffset = (utcMs) => {
    const parts: Record<string, number> = {};
    for (const p of format.formatToParts(utcMs)) if (p.type !== "literal") parts[p.type] = Number(p.value);
    const asUtc = Date.UTC(
      parts.year ?? 1970,
      (parts.month ?? 1) - 1,
      parts.day ?? 1,
      parts.hour ?? 0,
      parts.minute ?? 0,
      parts.second ?? 0,
    );
    return asUtc - Math.floor(utcMs / 1000) * 1000;
  };
  return cachedPerSlot(exact);
}

/** Zones change offset on quarter hours (the odd LMT offsets of the 1800s aside, handled below). */
const SLOT_MS = 15 * 60_000;
const MAX_CACHED_SLOTS = 4096;

/**
 * The Intl lookup costs microseconds and BSD lines need two per line: offsets are cached per
 * quarter hour of UTC. A slot is cached only when its first and last millisecond have the same
 * offset; a slot with a change inside it is looked up exactly every time.
 */
function cachedPerSlot(exact: ZoneOffset): ZoneOffset {
  const slots = new Map<number, number | null>();
  return (utcMs) => {
    const slot = Math.floor(utcMs / SLOT_MS);
    let offset = slots.get(slot);
    if (offset === undefined) {
      const start = exact(slot * SLOT_MS);
      offset = start === exact(slot * SLOT_MS + SLOT_MS - 1) ? start : null;
      if (slots.size >= MAX_CACHED_SLOTS) slots.clear();
      slots.set(slot, offset);
    }
    return offset ?? exact(utcMs);
  };
}

export interface WallClock {
  year: number;
  /** 0-11. */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const DAY_MS = 86_400_000;

/**
 * `Date.UTC(year, month, day, hour, minute, second)` by integer arithmetic (days from civil, after
 * Howard Hinnant), several times faster; out-of-range days and seconds roll over as Date.UTC's do.
 * Years 0-99, which Date.UTC maps to 1900-1999, and non-integers go to Date.UTC itself.
 */
export function utcOf(t: WallClock, lastDate: LastDate = new LastDate()): number {
  const { year, month, day, hour, minute, second } = t;
  const simple =
    year >= 100 &&
    year <= 9999 &&
    month >= 0 &&
    month <= 11 &&
    day >= 0 &&
    day <= 99 &&
    hour >= 0 &&
    minute >= 0;
  const integers =
    Number.isInteger(year) &&
    Number.isInteger(month) &&
    Number.isInteger(day) &&
    Number.isInteger(hour) &&
    Number.isInteger(minute) &&
    Number.isInteger(second);
  if (!simple || second < 0 || !integers) return Date.UTC(year, month, day, hour, minute, second);
  const date = (year * 12 + month) * 100 + day;
  if (date !== lastDate.date) {
    lastDate.date = date;
    lastDate.ms = daysFromCivil(year, month, day) * DAY_MS;
  }
  return lastDate.ms + hour * 3_600_000 + minute * 60_000 + second * 1000;
}

/** utcOf's cache, kept by the caller: consecutive lines share their date, so the last one's is kept. */
export class LastDate {
  /** `(year * 12 + month) * 100 + day`; none before the first. */
  date = -1;
  /** Its midnight, in ms since the epoch. */
  ms = 0;
}

function daysFromCivil(year: number, month: number, day: number): number {
  const y = month < 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month < 2 ? month + 10 : month - 2) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** Interprets wall-clock fields in a zone; re-evaluates once so DST edges land on the right side. */
export function wallClockToUtc(fields: WallClock, offset: ZoneOffset, lastDate?: LastDate): number {
  const guess = utcOf(fields, lastDate);
  const first = guess - offset(guess);
  return guess - offset(first);
}
