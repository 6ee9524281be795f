import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConnectionTable, KnownSources, type Standing } from "./admission.js";

interface Conn {
  source: string;
  lastActivityMs: number;
}

const STANDING: Record<string, Standing> = { mx: "preferred", seen: "known" };
const table = (maxConnections: number, maxPerSource = 10) =>
  new ConnectionTable<Conn>({ maxConnections, maxPerSource }, (source) => STANDING[source] ?? "unknown");

describe("connection admission", () => {
  it("accepts below the cap, then refuses a stranger", () => {
    const t = table(2);
    t.add({ source: "a", lastActivityMs: 1 });
    assert.deepEqual(t.admit("b"), { type: "accept" });
    t.add({ source: "b", lastActivityMs: 2 });
    assert.deepEqual(t.admit("c"), { type: "refuse", reason: "max_connections" });
  });

  it("gives a preferred or known newcomer the most idle stranger's slot", () => {
    const t = table(3);
    const busy = { source: "a", lastActivityMs: 50 };
    const idle = { source: "b", lastActivityMs: 10 };
    t.add(busy);
    t.add(idle);
    t.add({ source: "seen", lastActivityMs: 1 });
    assert.deepEqual(t.admit("mx"), { type: "evict", victim: idle });
    assert.deepEqual(t.admit("seen"), { type: "evict", victim: idle });
  });

  it("lets a preferred sender displace a known one, never the other way round nor within a tier", () => {
    const t = table(2);
    const known = { source: "seen", lastActivityMs: 5 };
    t.add(known);
    t.add({ source: "mx", lastActivityMs: 1 });
    assert.deepEqual(t.admit("mx"), { type: "evict", victim: known });
    assert.deepEqual(t.admit("seen"), { type: "refuse", reason: "max_connections" });
  });

  it("caps each source, whatever its standing, and frees the slot on delete", () => {
    const t = table(10, 2);
    const first = { source: "mx", lastActivityMs: 1 };
    t.add(first);
    t.add({ source: "mx", lastActivityMs: 1 });
    assert.deepEqual(t.admit("mx"), { type: "refuse", reason: "max_connections_per_source" });
    t.delete(first);
    t.delete(first);
    assert.deepEqual(t.admit("mx"), { type: "accept" });
    assert.equal(t.size, 1);
  });

  it("keeps the first known sources and learns no more past its bound", () => {
    const known = new KnownSources(2);
    assert.deepEqual(
      ["a", "b", "a", "c"].map((s) => known.learn(s)),
      [true, true, false, false],
    );
    assert.ok(known.has("a") && !known.has("c"));
  });
});
