import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Batcher } from "./batcher.js";

const collect = () => {
  const batches: number[][] = [];
  return { batches, flush: async (items: number[]) => void batches.push(items) };
};
const fail = (error: unknown) => assert.fail(String(error));

describe("Batcher", () => {
  it("groups what arrives within the wait into one batch", async () => {
    const { batches, flush } = collect();
    const batcher = new Batcher(30, 10, flush, fail);
    for (const n of [1, 2, 3]) batcher.add(n);
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.deepEqual(batches, [[1, 2, 3]]);
  });

  it("releases a full batch at once", async () => {
    const { batches, flush } = collect();
    const batcher = new Batcher(60_000, 2, flush, fail);
    for (const n of [1, 2, 3]) batcher.add(n);
    await batcher.drain();
    assert.deepEqual(batches, [[1, 2], [3]]);
  });

  it("keeps flushing after a flush failed", async () => {
    const errors: unknown[] = [];
    const seen: number[][] = [];
    const batcher = new Batcher(
      60_000,
      1,
      async (items: number[]) => {
        seen.push(items);
        if (items[0] === 1) throw new Error("sink down");
      },
      (error) => errors.push(error),
    );
    batcher.add(1);
    batcher.add(2);
    await batcher.drain();
    assert.deepEqual(seen, [[1], [2]]);
    assert.equal(errors.length, 1);
  });
});
