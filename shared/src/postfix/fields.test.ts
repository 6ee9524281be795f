import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { decimalAt } from "./fields.js";

const DECIMAL = /^\d{1,15}(?:\.\d{1,9})?$/;
const decimal = (text: string) => decimalAt(text, 0, text.length);

describe("decimalAt", () => {
  test("gives the double Number() gives for every strict decimal, and undefined for the rest", () => {
    const digits = (min: number, max: number) => fc.stringMatching(new RegExp(`^[0-9]{${min},${max}}$`));
    const numbers = fc.oneof(
      fc
        .tuple(digits(1, 16), fc.option(digits(0, 10)))
        .map(([whole, fraction]) => (fraction === null ? whole : `${whole}.${fraction}`)),
      fc.string({ maxLength: 12 }),
    );
    fc.assert(
      fc.property(numbers, (text) => {
        assert.equal(decimal(text), DECIMAL.test(text) ? Number(text) : undefined, text);
      }),
      { numRuns: 5000 },
    );
  });

  test("reads a field in place, as the delivery parser does", () => {
    const line = "delay=5.85, delays=0.39/0.01/2.75/2.71, dsn=2.0.0";
    assert.equal(decimalAt(line, 6, 10), 5.85);
    assert.equal(decimalAt(line, 19, 23), 0.39);
    assert.equal(decimalAt(line, 6, 11), undefined, "the comma is not part of a number");
    assert.equal(decimal("0.1"), 0.1);
    assert.equal(decimal("123456789012345.123456789"), Number("123456789012345.123456789"));
    assert.equal(decimal(" 1"), undefined);
    assert.equal(decimal("1."), undefined);
    assert.equal(decimal(".5"), undefined);
    assert.equal(decimal("-1"), undefined);
  });
});
