import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { eventPartition, fnv1a } from "./partitions.js";

describe("event partitions", () => {
  it("matches the published FNV-1a test vectors, so partitions are stable across versions", () => {
    assert.equal(fnv1a(""), 0x811c9dc5);
    assert.equal(fnv1a("a"), 0xe40c292c);
    assert.equal(fnv1a("foobar"), 0xbf9cf968);
  });

  it("puts a host in the partition its hash names, a line without a host in the empty name's", () => {
    assert.equal(eventPartition("foobar", 12), 0xbf9cf968 % 12);
    assert.equal(eventPartition("", 12), 0x811c9dc5 % 12);
    assert.equal(eventPartition("mx1.example.net", 1), 0);
  });

  it("spreads two hundred mail hosts over every partition", () => {
    const counts = new Array<number>(12).fill(0);
    for (let i = 0; i < 200; i++) {
      const partition = eventPartition(`mx${i}.example.net`, 12);
      counts[partition] = (counts[partition] ?? 0) + 1;
    }
    assert.ok(Math.min(...counts) >= 5, `${counts}`);
  });
});
