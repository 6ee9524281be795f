import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { parseRfc3339 } from "./parse.js";
import { UTC, utcOf, type WallClock, wallClockToUtc, type ZoneOffset, zoneOffsetFor } from "./time.js";

/** parseRfc3339 as it was written first, by regex and Date.UTC: the hand-written one must agree. */
const RFC3339_REFERENCE =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})?$/;

function referenceRfc3339(text: string, zoneOffset: ZoneOffset): number | null {
  const m = RFC3339_REFERENCE.exec(text);
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
  const utc = Date.UTC(fields.year, fields.month, fields.day, fields.hour, fields.minute, fields.second);
  if (!zone) {
    const first = utc - zoneOffset(utc);
    return utc - zoneOffset(first) + millis;
  }
  if (zone === "Z") return utc + millis;
  const sign = zone.startsWith("-") ? -1 : 1;
  const zoneMinutes = Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6));
  return utc + millis - sign * zoneMinutes * 60_000;
}

const digitString = (min: number, max: number) => fc.stringMatching(new RegExp(`^[0-9]{${min},${max}}$`));
/** Mostly well-formed timestamps, with every part sometimes out of range or malformed. */
const timestamps = fc
  .tuple(
    fc.oneof(digitString(4, 4), digitString(1, 5)),
    fc.oneof(
      fc.integer({ min: 0, max: 13 }).map((n) => String(n).padStart(2, "0")),
      digitString(1, 3),
    ),
    fc.oneof(
      fc.integer({ min: 0, max: 32 }).map((n) => String(n).padStart(2, "0")),
      digitString(1, 3),
    ),
    fc.constantFrom("T", " ", "t", "_"),
    fc.oneof(
      fc.integer({ min: 0, max: 25 }).map((n) => String(n).padStart(2, "0")),
      digitString(1, 3),
    ),
    fc.integer({ min: 0, max: 61 }).map((n) => String(n).padStart(2, "0")),
    fc.oneof(
      fc.integer({ min: 0, max: 99 }).map((n) => String(n).padStart(2, "0")),
      digitString(1, 3),
    ),
    fc.oneof(
      fc.constant(""),
      digitString(0, 11).map((d) => `.${d}`),
    ),
    fc.oneof(
      fc.constantFrom("", "Z", "z", "+00:00", "-00:00", "+01:00", "-05:30", "+14:00", "+1:00", "+0100", "Z "),
      fc
        .tuple(fc.constantFrom("+", "-"), digitString(2, 2), digitString(2, 2))
        .map(([s, h, m]) => `${s}${h}:${m}`),
    ),
  )
  .map(([y, mo, d, t, h, mi, s, frac, zone]) => `${y}-${mo}-${d}${t}${h}:${mi}:${s}${frac}${zone}`);

describe("parseRfc3339", () => {
  test("agrees with the regex and Date.UTC reading on well-formed and malformed timestamps", () => {
    const berlin = zoneOffsetFor("Europe/Berlin");
    fc.assert(
      fc.property(timestamps, (text) => {
        assert.equal(parseRfc3339(text, UTC), referenceRfc3339(text, UTC), text);
        assert.equal(parseRfc3339(text, berlin), referenceRfc3339(text, berlin), text);
      }),
      { numRuns: 20_000 },
    );
  });

  test("keeps the milliseconds of any fraction, truncated", () => {
    for (const [fraction, ms] of [
      ["", 0],
      [".1", 100],
      [".29", 290],
      [".999", 999],
      [".000981", 0],
      [".123456789", 123],
    ] as const) {
      assert.equal(parseRfc3339(`2026-11-03T00:00:00${fraction}Z`, UTC), Date.UTC(2026, 10, 3) + ms);
    }
  });
});

describe("utcOf", () => {
  test("equals Date.UTC, rollovers and two-digit years included", () => {
    const wallClocks = fc.record({
      year: fc.oneof(fc.integer({ min: 0, max: 9999 }), fc.double({ min: 0, max: 3000, noNaN: true })),
      month: fc.integer({ min: -1, max: 12 }),
      day: fc.integer({ min: 0, max: 40 }),
      hour: fc.integer({ min: 0, max: 30 }),
      minute: fc.integer({ min: 0, max: 70 }),
      second: fc.oneof(fc.integer({ min: 0, max: 99 }), fc.double({ min: 0, max: 60, noNaN: true })),
    });
    fc.assert(
      fc.property(wallClocks, (t: WallClock) => {
        assert.equal(utcOf(t), Date.UTC(t.year, t.month, t.day, t.hour, t.minute, t.second));
      }),
      { numRuns: 20_000 },
    );
  });
});

describe("zoneOffsetFor", () => {
  test("gives the exact offset on both sides of a DST change and at odd historical offsets", () => {
    for (const zone of ["Europe/Berlin", "America/St_Johns", "Australia/Lord_Howe", "Europe/Amsterdam"]) {
      const cached = zoneOffsetFor(zone);
      const exact = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "longOffset" });
      const offsetOf = (ms: number) => {
        const name = exact.formatToParts(ms).find((p) => p.type === "timeZoneName")?.value ?? "GMT";
        const m = /GMT([+-])(\d{2}):(\d{2})(?::(\d{2}))?/.exec(name);
        if (!m) return 0;
        const sign = m[1] === "-" ? -1 : 1;
        return sign * ((Number(m[2]) * 60 + Number(m[3])) * 60 + Number(m[4] ?? 0)) * 1000;
      };
      // Every 7 minutes through 2026, and every 10 s through 1925-1938 (Amsterdam's +00:19:32).
      for (let ms = Date.UTC(2026, 0, 1); ms < Date.UTC(2027, 0, 1); ms += 7 * 60_000 + 13)
        assert.equal(cached(ms), offsetOf(ms), `${zone} ${new Date(ms).toISOString()}`);
      if (zone === "Europe/Amsterdam")
        for (let ms = Date.UTC(1937, 5, 30, 22); ms < Date.UTC(1937, 6, 1, 2); ms += 10_000)
          assert.equal(cached(ms), offsetOf(ms), `${zone} ${new Date(ms).toISOString()}`);
    }
  });

  test("wallClockToUtc resolves a wall time through the cached offsets as through exact ones", () => {
    const berlin = zoneOffsetFor("Europe/Berlin");
    const fields = { year: 2026, month: 2, day: 29, hour: 3, minute: 30, second: 0 };
    assert.equal(wallClockToUtc(fields, berlin), Date.UTC(2026, 2, 29, 1, 30));
  });
});
