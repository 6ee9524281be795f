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
  return (utcMs) => {
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
}

/** Interprets wall-clock fields in a zone; re-evaluates once so DST edges land on the right side. */
export function wallClockToUtc(
  fields: { year: number; month: number; day: number; hour: number; minute: number; second: number },
  offset: ZoneOffset,
): number {
  const guess = Date.UTC(fields.year, fields.month, fields.day, fields.hour, fields.minute, fields.second);
  const first = guess - offset(guess);
  return guess - offset(first);
}
