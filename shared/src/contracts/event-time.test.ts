import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { eventTimeMs } from "./event-time.js";

/** Strings of the receiver's shape with any character in any place: the fast path must agree with Date.parse or step aside. */
const nearlyIso = fc
  .tuple(
    fc.date({ min: new Date(-1e14), max: new Date(3e14), noInvalidDate: true }),
    fc.nat({ max: 23 }),
    fc.constantFrom(..."0123456789-T:.Z+ x"),
  )
  .map(([date, at, character]) => {
    const iso = date.toISOString();
    return iso.slice(0, at) + character + iso.slice(at + 1);
  });

describe("eventTimeMs", () => {
  it("is Date.parse for every toISOString", () => {
    fc.assert(
      fc.property(fc.date({ min: new Date(-1e14), max: new Date(3e14), noInvalidDate: true }), (date) => {
        assert.equal(eventTimeMs(date.toISOString()), Date.parse(date.toISOString()));
      }),
      { numRuns: 2000 },
    );
  });

  it("is Date.parse for strings of that shape with one character changed", () => {
    fc.assert(
      fc.property(nearlyIso, (ts) => assert.ok(Object.is(eventTimeMs(ts), Date.parse(ts)), ts)),
      { numRuns: 5000 },
    );
  });

  it("is Date.parse for the days, hours and years the fast path leaves to it", () => {
    for (const ts of [
      "2026-02-29T10:00:00.000Z",
      "2024-02-29T10:00:00.000Z",
      "2026-04-31T10:00:00.000Z",
      "2026-12-31T23:59:59.999Z",
      "2026-11-03T24:00:00.000Z",
      "2026-11-03T23:60:00.000Z",
      "2026-13-03T10:00:00.000Z",
      "2026-00-03T10:00:00.000Z",
      "0099-11-03T10:00:00.000Z",
      "2026-11-03T10:00:00+01:00",
      "2026-11-03T10:00:00.000+0",
      "",
      "not a time",
    ])
      assert.ok(Object.is(eventTimeMs(ts), Date.parse(ts)), ts);
  });
});
