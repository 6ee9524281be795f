import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { zoneOffsetFor } from "../syslog/time.js";
import { type LineContext, type LineOutcome, lineToEvent } from "./lines.js";
import { ParserCache } from "./parser-cache.js";

/**
 * Two senders whose lines differ where a cache must tell them apart: the same minutes a year apart,
 * zone-less stamps in different zones, BSD stamps whose year comes from different reference times
 * (Dec 31 is 2025 for B, and would be 2026 with A's), other hosts and smtpd counters, and the tags
 * `postfix/lmtp` and `postfix/smtp` that share a RecurringStrings slot.
 */
const STREAM_A = [
  "2026-11-03T14:03:01.123+00:00 mx-a postfix/smtpd[1]: connect from unknown[192.0.2.1]",
  "2026-11-03T14:03:02.500+00:00 mx-a postfix/smtpd[1]: disconnect from unknown[192.0.2.1] ehlo=1 quit=1 commands=2",
  "Jan  1 00:10:00 mx-a postfix/qmgr[3]: 4Xa1b2C3d4: removed",
  "2026-11-03T14:04:00 mx-a postfix/lmtp[2]: 4Xa1b2C3d4: to=<a@example.org>, relay=lmtp, delay=1, status=sent (ok)",
  "<22>1 2026-11-03T14:04:01.5+01:00 mx-a postfix 4 - -  connect from unknown[192.0.2.2]",
  "2026-11-03T14:04:02 mx-a dovecot[5]: imap-login: Login",
];
const STREAM_B = [
  "2025-11-03T14:03:01.123-05:00 relay-b postfix-out/smtp[11]: 9Zz8y7X6w5: to=<b@example.net>, relay=none, delay=2, status=deferred (timeout)",
  "2025-11-03T14:03:02 relay-b postfix-out/submission/smtpd[12]: disconnect from host[198.51.100.7] auth=0/1 rset=1 commands=1/2",
  "Dec 31 23:59:59 relay-b postfix-out/smtp[13]: 9Zz8y7X6w5: removed",
  "2025-11-03T14:04:00 relay-b postfix/smtp[14]: connect from host[198.51.100.8]",
  "<13>1 2025-11-03T14:04:01Z relay-b postfix 15 - -  lost connection after AUTH from host[198.51.100.8]",
];

const contextA = (cache?: ParserCache): LineContext => ({
  referenceTime: Date.UTC(2027, 0, 1, 0, 30),
  fallbackHost: "",
  cache,
});
const contextB = (cache?: ParserCache): LineContext => ({
  referenceTime: Date.UTC(2026, 5, 15),
  zoneOffset: zoneOffsetFor("America/New_York"),
  fallbackHost: "",
  cache,
});

/** Each stream alone, every line with a fresh cache: what no remembered state can have touched. */
const aloneA = STREAM_A.map((line) => lineToEvent(line, contextA()));
const aloneB = STREAM_B.map((line) => lineToEvent(line, contextB()));

/** The two streams line by line, A first, through the caches `cacheOf` gives each. */
function interleaved(cacheOf: (stream: "a" | "b") => ParserCache): [LineOutcome[], LineOutcome[]] {
  const a: LineOutcome[] = [];
  const b: LineOutcome[] = [];
  for (let i = 0; i < Math.max(STREAM_A.length, STREAM_B.length); i++) {
    const lineA = STREAM_A[i];
    const lineB = STREAM_B[i];
    if (lineA !== undefined) a.push(lineToEvent(lineA, contextA(cacheOf("a"))));
    if (lineB !== undefined) b.push(lineToEvent(lineB, contextB(cacheOf("b"))));
  }
  return [a, b];
}

describe("ParserCache", () => {
  it("the streams really differ in what the caches remember", () => {
    const stamps = (outcomes: LineOutcome[]) =>
      outcomes.map((o) => (o.type === "event" ? o.event.ts : o.type));
    assert.deepEqual(stamps(aloneA), [
      "2026-11-03T14:03:01.123Z",
      "2026-11-03T14:03:02.500Z",
      "2027-01-01T00:10:00.000Z",
      "2026-11-03T14:04:00.000Z",
      "2026-11-03T13:04:01.500Z",
      "not_postfix",
    ]);
    assert.deepEqual(stamps(aloneB), [
      "2025-11-03T19:03:01.123Z",
      "2025-11-03T19:03:02.000Z",
      "2026-01-01T04:59:59.000Z",
      "2025-11-03T19:04:00.000Z",
      "2025-11-03T14:04:01.000Z",
    ]);
  });

  it("gives each of two interleaved streams, one cache each, what it gives the stream alone", () => {
    const caches = { a: new ParserCache(), b: new ParserCache() };
    const [a, b] = interleaved((stream) => caches[stream]);
    assert.deepEqual(a, aloneA);
    assert.deepEqual(b, aloneB);
    // Each cache holds its own stream's last host: neither saw the other's lines.
    assert.equal(caches.a.syslog.hostname, "mx-a");
    assert.equal(caches.b.syslog.hostname, "relay-b");
  });

  it("gives interleaved streams through one shared cache (the receiver's senders) the same outcomes", () => {
    const shared = new ParserCache();
    const [a, b] = interleaved(() => shared);
    assert.deepEqual(a, aloneA);
    assert.deepEqual(b, aloneB);
  });
});
