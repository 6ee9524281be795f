import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { isoTime, isoTimeMs } from "./iso-time.js";

test("isoTime matches Date#toISOString across years 0000-9999 and beyond", () => {
  fc.assert(
    fc.property(fc.integer({ min: -62_167_219_200_000, max: 300_000_000_000_000 }), (ms) => {
      assert.equal(isoTime(ms), new Date(ms).toISOString());
    }),
    { numRuns: 20_000 },
  );
  for (const ms of [0, 951_782_400_000, 4_107_542_400_000, 253_402_300_799_999]) {
    assert.equal(isoTime(ms), new Date(ms).toISOString());
  }
});

test("isoTime never throws: out-of-range and non-finite times fall back to the epoch", () => {
  assert.equal(isoTime(Number.NaN), "1970-01-01T00:00:00.000Z");
  assert.equal(isoTime(Number.POSITIVE_INFINITY), "1970-01-01T00:00:00.000Z");
  assert.equal(isoTime(9e15), "1970-01-01T00:00:00.000Z");
  assert.equal(isoTime(1.5), "1970-01-01T00:00:00.001Z");
});

test("isoTimeMs is Date.parse of isoTime, for any timestamp", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.integer({ min: -8_640_000_000_000_000, max: 8_640_000_000_000_000 }),
        fc.double(),
        fc.constantFrom(9e15, -9e15, 8.64e15, -8.64e15, 1.5, -1.5),
      ),
      (timestamp) => assert.equal(isoTimeMs(timestamp), Date.parse(isoTime(timestamp))),
    ),
    { numRuns: 20_000 },
  );
});

test("isoTime matches Date#toISOString for a log's run of times, across minutes, days and years", () => {
  // Consecutive lines share their minute or second, which isoTime formats once: steps of a few ms to
  // a few minutes, some backwards, over the ends of a minute, an hour, a day, a leap day and a year.
  for (const start of [
    Date.UTC(2026, 10, 3, 23, 58),
    Date.UTC(2028, 1, 29, 23, 59),
    Date.UTC(2026, 11, 31, 23, 59),
  ]) {
    let ms = start;
    for (let i = 0; i < 2000; i++) {
      ms += [1, 7, 250, 999, 1000, 1001, 59_999, 60_000, 61_000, -1, -60_000][i % 11] as number;
      assert.equal(isoTime(ms), new Date(ms).toISOString());
    }
  }
});
