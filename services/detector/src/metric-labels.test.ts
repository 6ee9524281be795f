import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PostfixEvent } from "../../../shared/src/contracts/events.js";
import { cipherFamily, createLabellers, HostLabels, MAX_EXTRA_SERVICES, OTHER } from "./metric-labels.js";

const HEAD = {
  v: 1,
  ts: "2026-11-03T14:03:01.000Z",
  program: "postfix/qmgr",
  daemon: "qmgr",
  pid: 1,
} as const;
const flow = (host: string): PostfixEvent[] => [
  { ...HEAD, host, kind: "queued", queueId: "4F1A2", from: "a@example.org", size: 1, nrcpt: 1 },
  {
    ...HEAD,
    host,
    kind: "delivery",
    queueId: "4F1A2",
    to: "b@example.net",
    relay: "none",
    delay: 1,
    dsn: "2.0.0",
    status: "sent",
    response: "ok",
  },
  { ...HEAD, host, kind: "removed", queueId: "4F1A2" },
];

describe("metric label vocabularies", () => {
  it("keeps known values and folds the rest into other, counting each fold", () => {
    const folds: string[] = [];
    const label = createLabellers({
      hosts: new HostLabels([], { firstCome: 1, proven: 0 }),
      onFold: (l) => folds.push(l),
    });
    assert.equal(label.daemon("smtpd"), "smtpd");
    assert.equal(label.daemon("x".repeat(40)), OTHER);
    assert.equal(label.mechanism("CRAM-MD5"), "CRAM-MD5");
    assert.equal(label.mechanism("EVIL"), OTHER);
    assert.equal(label.code("554"), "554");
    assert.equal(label.code("999"), OTHER);
    assert.equal(label.dsnClass("4.7.1"), "4.x.x");
    assert.equal(label.dsnClass("9.9.9"), OTHER);
    assert.equal(label.protocol("TLSv1.3"), "TLSv1.3");
    assert.equal(label.postscreenAction("PASS NEW"), "PASS NEW");
    assert.deepEqual(folds, ["daemon", "mechanism", "code", "dsn_class"]);
  });

  it("names a cipher by its family, in OpenSSL's and IANA's spelling", () => {
    assert.equal(cipherFamily("ECDHE-RSA-AES256-GCM-SHA384"), "AES-256-GCM");
    assert.equal(cipherFamily("TLS_AES_256_GCM_SHA384"), "AES-256-GCM");
    assert.equal(cipherFamily("TLS_AES_128_GCM_SHA256"), "AES-128-GCM");
    assert.equal(cipherFamily("TLS_CHACHA20_POLY1305_SHA256"), "CHACHA20-POLY1305");
    assert.equal(cipherFamily("ECDHE-RSA-AES128-SHA"), "AES-128-CBC");
    assert.equal(cipherFamily("AES256-SHA"), "AES-256-CBC");
    assert.equal(cipherFamily("DES-CBC3-SHA"), "3DES");
    assert.equal(cipherFamily("RC4-SHA"), "RC4");
    assert.equal(cipherFamily("made-up"), undefined);
  });

  it("labels the stock services always, and only so many others", () => {
    const label = createLabellers({
      hosts: new HostLabels([], { firstCome: 0, proven: 0 }),
      onFold: () => undefined,
    });
    const extra = Array.from({ length: MAX_EXTRA_SERVICES + 5 }, (_, i) => label.service(`smtp-${i}`));
    assert.equal(extra.filter((value) => value !== OTHER).length, MAX_EXTRA_SERVICES);
    assert.equal(label.service("submission"), "submission");
    assert.equal(label.service("smtp-0"), "smtp-0");
  });
});

describe("host labels", () => {
  it("labels configured hosts always and the first come up to their share", () => {
    const hosts = new HostLabels(["mx-configured"], { firstCome: 2, proven: 0 });
    assert.deepEqual(
      ["a", "b", "c", "a", "mx-configured"].map((h) => hosts.label(h)),
      ["a", "b", OTHER, "a", "mx-configured"],
    );
  });

  it("keeps slots for servers with real mail flow, so spoofed names seen first cannot take them", () => {
    const hosts = new HostLabels([], { firstCome: 256, proven: 2 });
    for (let i = 0; i < 10_000; i++) {
      const event = { ...HEAD, host: `spoof-${i}`, kind: "removed", queueId: "1" } as PostfixEvent;
      hosts.observe(event);
      hosts.label(event.host);
    }
    assert.equal(hosts.label("mx-late"), OTHER, "past the first-come share");
    for (const event of flow("mx-late")) hosts.observe(event);
    assert.equal(hosts.label("mx-late"), "mx-late");
  });

  it("proves nothing from part of a message's story", () => {
    const hosts = new HostLabels([], { firstCome: 0, proven: 1 });
    for (const event of flow("mx").slice(0, 2)) hosts.observe(event);
    assert.equal(hosts.label("mx"), OTHER);
  });
});
