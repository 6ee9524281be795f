import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { domainOf, ipv6Net64 } from "./addresses.js";
import { DistinctSet } from "./distinct-set.js";
import { SlidingWindow } from "./sliding-window.js";

describe("ipv6Net64", () => {
  it("normalises compressed, full and zoned IPv6 addresses to their /64", () => {
    assert.equal(ipv6Net64("2001:db8:1:2::a"), "2001:db8:1:2::/64");
    assert.equal(ipv6Net64("2001:0db8:0001:0002:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");
    assert.equal(ipv6Net64("2001:db8::1"), "2001:db8:0:0::/64");
    assert.equal(ipv6Net64("fe80::1%eth0"), "fe80:0:0:0::/64");
  });

  it("has no /64 for IPv4, IPv4-mapped or malformed addresses", () => {
    assert.equal(ipv6Net64("192.0.2.1"), undefined);
    assert.equal(ipv6Net64("::ffff:192.0.2.1"), undefined);
    assert.equal(ipv6Net64("2001:db8:zz::1"), undefined);
    assert.equal(ipv6Net64("1:2:3:4:5:6:7:8:9"), undefined);
  });

  it("takes the domain of an address, lower-cased", () => {
    assert.equal(domainOf("User@Example.ORG"), "example.org");
    assert.equal(domainOf("root"), undefined);
  });
});

describe("SlidingWindow", () => {
  const window = new SlidingWindow(600_000);

  it("counts events within the window and drops them after it", () => {
    let buckets = window.add([], 0, 1) ?? [];
    buckets = window.add(buckets, 300_000, 2) ?? buckets;
    assert.equal(window.total(buckets, 300_000), 3);
    assert.equal(window.total(buckets, 601_000), 2, "the first event left the window");
    assert.equal(window.total(buckets, 901_000), 0);
  });

  it("refuses an event older than the window and keeps at most one window of buckets", () => {
    let buckets = window.add([], 3_600_000, 1) ?? [];
    assert.equal(window.add(buckets, 0, 1), undefined);
    for (let t = 0; t < 100; t += 1) buckets = window.add(buckets, 3_600_000 + t * 60_000, 1) ?? buckets;
    assert.ok(buckets.length <= 20);
  });
});

describe("DistinctSet", () => {
  it("counts distinct values in the window and saturates at its cap", () => {
    const set = new DistinctSet(60_000, 3);
    for (const [value, at] of [
      ["a", 0],
      ["b", 1],
      ["a", 2],
    ] as const)
      set.add(value, at);
    assert.equal(set.size(2), 2);
    assert.equal(set.size(60_001), 1, "b and a's first sighting aged out; a was seen again");
    for (const value of ["c", "d", "e", "f"]) set.add(value, 70_000);
    assert.equal(set.size(70_000), 3);
    assert.equal(set.saturated(70_000), true);
  });
});
