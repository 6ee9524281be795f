import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { certificateNames, parsePeerPatterns, peerPermitted } from "./peer-names.js";

describe("SYSLOG_TLS_PERMITTED_PEERS", () => {
  it("reads names and *.domain patterns, lower-cased", () => {
    assert.deepEqual(parsePeerPatterns("MX1.example.org, *.mail.example.org"), [
      "mx1.example.org",
      "*.mail.example.org",
    ]);
  });

  it("names the item it cannot read", () => {
    for (const bad of [
      "mx*.example.org",
      "*example.org",
      "mx..example.org",
      "a.*.example.org",
      "https://mx1",
    ]) {
      assert.throws(
        () => parsePeerPatterns(`mx1.example.org,${bad}`),
        (error: Error) => error.message.includes(`"${bad}"`),
        bad,
      );
    }
  });

  it("takes the DNS subjectAltNames, and the common name only when there are none", () => {
    assert.deepEqual(
      certificateNames({
        subject: { CN: "ignored" },
        subjectaltname: "DNS:MX1.example.org, IP Address:192.0.2.1, DNS:mx1",
      }),
      ["mx1.example.org", "mx1"],
    );
    assert.deepEqual(
      certificateNames({ subject: { CN: "mx-tls" }, subjectaltname: "IP Address:192.0.2.1" }),
      ["mx-tls"],
    );
    assert.deepEqual(certificateNames({ subject: { CN: ["a", "b"] } }), ["a", "b"]);
    assert.deepEqual(certificateNames({}), []);
  });

  it("matches exact names, and a wildcard for exactly one leftmost label", () => {
    const permitted = peerPermitted(parsePeerPatterns("mx1.example.org, *.mail.example.org"));
    assert.equal(permitted(["mx1.example.org"]), true);
    assert.equal(permitted(["other", "mx1.example.org"]), true);
    assert.equal(permitted(["in.mail.example.org"]), true);
    assert.equal(permitted(["mail.example.org"]), false);
    assert.equal(permitted(["a.in.mail.example.org"]), false);
    assert.equal(permitted(["mx2.example.org"]), false);
    assert.equal(permitted(["mx1.example.org.evil.net"]), false);
    assert.equal(permitted([]), false);
  });
});
