import assert from "node:assert/strict";
import { isIP } from "node:net";
import { test } from "node:test";
import fc from "fast-check";
import { endpointAt, findEndpoint } from "./endpoint.js";
import { parsePostfix } from "./parse.js";
import { record } from "./testing.js";

test("an endpoint's brackets hold an IPv4 or IPv6 address, or unknown", () => {
  assert.deepEqual(endpointAt("mx.example.org[192.0.2.1]:25", 0)?.endpoint, {
    host: "mx.example.org",
    ip: "192.0.2.1",
    port: 25,
  });
  assert.deepEqual(endpointAt("unknown[2001:db8::a11:beef:7ac0]", 0)?.endpoint, {
    host: "unknown",
    ip: "2001:db8::a11:beef:7ac0",
  });
  assert.deepEqual(endpointAt("[::ffff:192.0.2.7]:4000", 0)?.endpoint, {
    host: "",
    ip: "::ffff:192.0.2.7",
    port: 4000,
  });
  assert.deepEqual(endpointAt("unknown[unknown]", 0)?.endpoint, { host: "unknown", ip: "unknown" });
  // Seed 000: a forum post stripped the address, and the session is still worth following.
  assert.deepEqual(endpointAt("unknown[]", 0)?.endpoint, { host: "unknown", ip: "" });
  for (const notAnAddress of [
    "dict_ldap_get_values[1]",
    "example.com[path]",
    "sub1.example.com[private/dovecot-lmtp]",
    "mxw**.com[198.x.x.x]",
    "host[199.200.300.131]",
    "host[66.100.32.07]",
    "host[1.2.3]",
    "host[1.2.3.4.5]",
    "host[1.2.3.4.]",
    "host[1..2.3]",
    "host[2001:db8::g]",
    "host[unknownx]",
    "mail.example.org[]",
  ]) {
    assert.equal(endpointAt(notAnAddress, 0), null, notAnAddress);
  }
});

test("free text yields the first bracket that holds an address", () => {
  assert.deepEqual(findEndpoint("dict_ldap_get_values[1]: DN uid=x not found"), undefined);
  assert.deepEqual(findEndpoint("queue [ID 42] for mx.example.org[192.0.2.9]:25"), {
    host: "mx.example.org",
    ip: "192.0.2.9",
    port: 25,
  });
});

test("a line whose brackets hold no address names no endpoint, and still parses", () => {
  const warning = parsePostfix(
    record(
      "postfix/cleanup",
      "warning: dict_ldap_get_values[1]: DN uid=jdoe,ou=people,dc=example,dc=org not found, skipping",
    ),
  );
  assert.equal(warning?.kind, "warning");
  assert.equal(warning?.kind === "warning" && warning.client, undefined);
  const delivery = parsePostfix(
    record(
      "postfix/lmtp",
      "4B1C31D6FA: to=<a@example.org>, relay=example.com[path], delay=0.12, delays=0.1/0/0/0.02, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
    ),
  );
  assert.equal(delivery?.kind, "delivery");
  assert.equal(delivery?.kind === "delivery" && delivery.relay, "example.com[path]");
  assert.equal(delivery?.kind === "delivery" && delivery.relayEndpoint, undefined);
});

/** Strings near addresses: valid ones, and ones a character or a group away from valid. */
const nearAddresses = fc.oneof(
  fc.ipV4(),
  fc.ipV6(),
  fc.tuple(fc.ipV6(), fc.stringMatching(/^%[0-9A-Za-z.:-]{0,6}$/)).map(([ip, zone]) => ip + zone),
  fc
    .tuple(
      fc.oneof(fc.ipV4(), fc.ipV6()),
      fc.nat(),
      fc.constantFrom("", ":", "::", ".", "0", "00", "ffff", "1.2.3.4", "%"),
    )
    .map(([ip, at, piece]) => {
      const cut = at % (ip.length + 1);
      return ip.slice(0, cut) + piece + ip.slice(cut + (at % 2));
    }),
  fc.stringMatching(/^[0-9a-fA-F:.%]{0,45}$/),
);

test("the brackets' address is what node's isIP calls an address", () => {
  fc.assert(
    fc.property(nearAddresses, (ip) => {
      const expected = isIP(ip) !== 0 || ip === "unknown";
      assert.equal(endpointAt(`mx[${ip}]`, 0) !== null, expected, ip);
    }),
    { numRuns: 20_000 },
  );
});
