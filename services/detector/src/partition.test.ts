import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fnv1a } from "../../../shared/src/contracts/partitions.js";
import { ownsKey, replicaDurable } from "./partition.js";

describe("replica key ownership", () => {
  it("gives every key exactly one owner among the replicas", () => {
    for (const count of [2, 3, 5]) {
      for (let i = 0; i < 2000; i++) {
        const ip = `198.51.${i >> 8}.${i & 255}`;
        const owners = Array.from({ length: count }, (_, index) =>
          ownsKey({ index, count }, "client_ip", ip),
        ).filter(Boolean);
        assert.equal(owners.length, 1, `${ip} with ${count} replicas`);
      }
    }
  });

  it("spreads keys evenly enough to share the work", () => {
    const counts = new Map<number, number>();
    for (let i = 0; i < 30_000; i++) {
      const owner = fnv1a(`client_ip\u0000203.0.${i >> 8}.${i & 255}`) % 3;
      counts.set(owner, (counts.get(owner) ?? 0) + 1);
    }
    assert.equal(counts.size, 3);
    for (const n of counts.values()) assert.ok(n > 9000 && n < 11_000, `${[...counts.values()]}`);
  });

  it("keeps the plain durable name for a single replica", () => {
    assert.equal(replicaDurable("postwatch-detector", { index: 0, count: 1 }), "postwatch-detector");
    assert.equal(replicaDurable("postwatch-detector", { index: 1, count: 3 }), "postwatch-detector-1-of-3");
  });
});
