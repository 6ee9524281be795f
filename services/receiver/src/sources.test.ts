import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { openToEveryone, parseSourceRanges, sourceFilter } from "./sources.js";

describe("SYSLOG_ALLOWED_SOURCES", () => {
  it("reads addresses and CIDR ranges, comma- or space-separated", () => {
    assert.deepEqual(parseSourceRanges("192.0.2.10, 198.51.100.0/24  2001:db8::/32"), [
      { address: "192.0.2.10", prefix: 32, family: "ipv4" },
      { address: "198.51.100.0", prefix: 24, family: "ipv4" },
      { address: "2001:db8::", prefix: 32, family: "ipv6" },
    ]);
    assert.deepEqual(parseSourceRanges(" "), []);
  });

  it("names the item it cannot read", () => {
    for (const bad of [
      "mail.example.org",
      "192.0.2.0/33",
      "2001:db8::/129",
      "192.0.2.0/",
      "192.0.2.0/8/8",
      "10.0.0.0/x",
    ]) {
      assert.throws(
        () => parseSourceRanges(`127.0.0.1, ${bad}`),
        new RegExp(`"${bad.replace(/[./]/g, "\\$&")}"`),
        bad,
      );
    }
  });

  it("allows only the listed sources, IPv4 on a dual-stack socket included", () => {
    const allows = sourceFilter(parseSourceRanges("192.0.2.10,198.51.100.0/24,2001:db8::/32"));
    for (const peer of ["192.0.2.10", "198.51.100.200", "::ffff:198.51.100.7", "2001:db8:1::25"]) {
      assert.equal(allows(peer), true, peer);
    }
    for (const peer of ["192.0.2.11", "203.0.113.5", "::ffff:203.0.113.5", "2001:db9::1", "unknown", ""]) {
      assert.equal(allows(peer), false, peer);
    }
  });

  it("tells when listeners take lines from the whole network", () => {
    const none: ReturnType<typeof parseSourceRanges> = [];
    assert.equal(openToEveryone("0.0.0.0", none), true);
    assert.equal(openToEveryone("::", none), true);
    assert.equal(openToEveryone("192.0.2.1", none), true);
    assert.equal(openToEveryone("0.0.0.0", parseSourceRanges("192.0.2.0/24")), false);
    for (const host of ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
      assert.equal(openToEveryone(host, none), false, host);
  });

  it("allows everyone when no range is given", () => {
    assert.equal(sourceFilter([])("203.0.113.5"), true);
  });
});
