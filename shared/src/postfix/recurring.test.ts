import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { keptCopy, RecurringStrings } from "./recurring.js";

test("RecurringStrings hands back each slice's text, whatever shares its slot and in whatever order", () => {
  const texts = fc.array(fc.string({ unit: "binary", maxLength: 40 }), { minLength: 1, maxLength: 6 });
  const cuts = fc.array(fc.tuple(fc.nat(), fc.nat(3), fc.nat(3)), { maxLength: 80 });
  fc.assert(
    fc.property(texts, cuts, (pool, picks) => {
      const strings = new RecurringStrings(4);
      for (const [pick, fromStart, fromEnd] of picks) {
        const text = pool[pick % pool.length] as string;
        const end = Math.max(0, text.length - fromEnd);
        const start = Math.min(fromStart, end);
        assert.equal(strings.get(text, start, end), text.slice(start, end));
      }
    }),
  );
});

test("keptCopy copies exactly, lone surrogates and all", () => {
  assert.equal(keptCopy("x \ud800postfix/smtpd\udfff]", 2, 17), "\ud800postfix/smtpd\udfff");
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 60 }), fc.nat(5), (text, cut) => {
      const start = Math.min(cut, text.length);
      assert.equal(keptCopy(text, start, text.length), text.slice(start));
    }),
  );
});
