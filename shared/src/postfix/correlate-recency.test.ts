import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { RecencyMap } from "./correlate-recency.js";

/** The order RecencyMap promises, kept the obvious way: a Map re-inserts a touched key at its end. */
class ReferenceRecency {
  readonly entries = new Map<number, number>();
  touch(key: number, value: number): void {
    this.entries.delete(key);
    this.entries.set(key, value);
  }
  evictWhile(shouldEvict: (value: number) => boolean): number[] {
    const evicted: number[] = [];
    for (const [key, value] of this.entries) {
      if (!shouldEvict(value)) break;
      this.entries.delete(key);
      evicted.push(value);
    }
    return evicted;
  }
}

type Operation =
  | { op: "touch"; key: number; value: number }
  | { op: "delete"; key: number }
  | { op: "get"; key: number }
  | { op: "evictBelow"; value: number }
  | { op: "evictBeyond"; limit: number };

const key = fc.integer({ min: 0, max: 12 });
const operation: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant("touch" as const), key, value: fc.nat(100) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("delete" as const), key }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("get" as const), key }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("evictBelow" as const), value: fc.nat(100) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("evictBeyond" as const), limit: fc.nat(8) }) },
);

describe("RecencyMap", () => {
  test("keeps the order, the values and the evictions of a Map that re-inserts every touched key", () => {
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 200 }), (operations) => {
        const map = new RecencyMap<number, number>();
        const reference = new ReferenceRecency();
        for (const step of operations) {
          switch (step.op) {
            case "touch":
              map.touch(step.key, step.value);
              reference.touch(step.key, step.value);
              break;
            case "delete":
              assert.equal(map.delete(step.key), reference.entries.delete(step.key));
              break;
            case "get":
              assert.equal(map.get(step.key), reference.entries.get(step.key));
              break;
            case "evictBelow":
              assert.deepEqual(
                map.evictWhile((value) => value < step.value),
                reference.evictWhile((value) => value < step.value),
              );
              break;
            case "evictBeyond":
              assert.deepEqual(
                [...map.evictBeyond(step.limit)],
                reference.evictWhile(() => reference.entries.size > step.limit),
              );
              break;
          }
          assert.equal(map.size, reference.entries.size);
        }
        // Draining shows the whole order, stalest first.
        assert.deepEqual(
          map.evictWhile(() => true),
          reference.evictWhile(() => true),
        );
      }),
      { numRuns: 2000 },
    );
  });

  test("evictBeyond within the bound allocates nothing", () => {
    const map = new RecencyMap<string>();
    map.touch("a", "1");
    assert.equal(map.evictBeyond(5), map.evictBeyond(5));
    assert.equal(map.evictBeyond(5).length, 0);
  });
});
