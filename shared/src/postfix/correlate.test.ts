import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { EventOf, PostfixEvent } from "../contracts/events.js";
import { Correlator } from "./correlate.js";
import { delivery, event, SECOND, tsAt } from "./correlate.testkit.js";

type MessageEvent = EventOf<"message">;

function pushAll(correlator: Correlator, events: PostfixEvent[]): PostfixEvent[] {
  return events.flatMap((e) => correlator.push(e));
}

function messagesIn(events: PostfixEvent[]): MessageEvent[] {
  return events.filter((e): e is MessageEvent => e.kind === "message");
}

function only<T>(items: T[]): T {
  assert.equal(items.length, 1, `expected exactly one, got ${items.length}`);
  return items[0] as T;
}

const T0 = Date.parse("2026-04-16T06:29:10.000Z");

describe("Correlator: a message's story", () => {
  it("links seed 003's chain: who submitted, the 551 bounce, and the notification it triggered", () => {
    const correlator = new Correlator();
    const virus =
      "host mxw.mxhichina.com[198.11.189.243] said: 551 virus infected mail rejected (in reply to end of DATA command)";
    const out = pushAll(correlator, [
      // The client= line the admin's `grep sasl_username` was after; the forum excerpt starts later.
      event("client", {
        queueId: "418621D80D",
        client: { host: "unknown", ip: "203.0.113.66" },
        saslMethod: "LOGIN",
        saslUsername: "printer@xxx.example",
      }),
      event("queued", { queueId: "418621D80D", from: "spoofed@bank.example", size: 40213, nrcpt: 1 }),
      delivery("418621D80D", "xxx@medi.example.cn", "bounced", virus, { dsn: "5.0.0" }),
      event("message_id", { queueId: "6711A1D7B7", messageId: "<bounce-1@mail.xxx.example>" }),
      event("bounce_notice", {
        queueId: "418621D80D",
        notice: "non-delivery",
        recipient: "sender",
        bounceQueueId: "6711A1D7B7",
      }),
      event("removed", { queueId: "418621D80D" }),
      event("queued", { queueId: "6711A1D7B7", from: "", size: 2554, nrcpt: 1 }),
    ]);

    const original = only(messagesIn(out));
    assert.equal(original.queueId, "418621D80D");
    assert.equal(original.end, "removed");
    assert.equal(original.saslUsername, "printer@xxx.example");
    assert.deepEqual(original.client, { host: "unknown", ip: "203.0.113.66" });
    assert.equal(original.from, "spoofed@bank.example");
    assert.deepEqual(original.bounceQueueIds, ["6711A1D7B7"]);
    assert.deepEqual(original.recipients, [
      {
        to: "xxx@medi.example.cn",
        status: "bounced",
        dsn: "5.0.0",
        relay: "mx.far.example[198.51.100.5]:25",
        response: virus,
      },
    ]);

    const notification = only(messagesIn(correlator.sweep(Number.POSITIVE_INFINITY)));
    assert.equal(notification.queueId, "6711A1D7B7");
    assert.equal(notification.bounceOf, "418621D80D");
    assert.equal(notification.from, "");
    assert.equal(notification.size, 2554);
    assert.equal(notification.messageId, "<bounce-1@mail.xxx.example>");
    assert.equal(notification.end, "evicted");
  });

  it("links seed 003's 552-5.7.0 bounce to 705F91D801 even when the notification's cleanup line comes first", () => {
    const correlator = new Correlator();
    const out = pushAll(correlator, [
      delivery(
        "65E4C1D95F",
        "xxx@an.example",
        "bounced",
        "host aspmx.l.google.com[172.217.194.27] said: 552-5.7.0 blocked",
        { dsn: "5.7.0" },
      ),
      event("message_id", { queueId: "705F91D801", messageId: "<bounce-2@mail.xxx.example>" }),
      event("bounce_notice", {
        queueId: "65E4C1D95F",
        notice: "non-delivery",
        recipient: "sender",
        bounceQueueId: "705F91D801",
      }),
      event("removed", { queueId: "65E4C1D95F" }),
      event("removed", { queueId: "705F91D801" }),
    ]);
    const [original, notification] = messagesIn(out);
    assert.deepEqual(original?.bounceQueueIds, ["705F91D801"]);
    assert.equal(notification?.bounceOf, "65E4C1D95F");
    assert.equal(notification?.messageId, "<bounce-2@mail.xxx.example>");
  });

  it("gives a content filter's re-injected message the original client and SASL user", () => {
    const correlator = new Correlator();
    const origin = { host: "unknown", ip: "203.0.113.7" };
    const loopback = { host: "localhost", ip: "127.0.0.1" };
    const out = pushAll(correlator, [
      event("client", {
        queueId: "AAA111",
        client: origin,
        saslMethod: "PLAIN",
        saslUsername: "bob@example.org",
      }),
      event("queued", { queueId: "AAA111", from: "bob@example.org", size: 900, nrcpt: 1 }),
      // amavis re-injects before it answers, so the new ID's loopback client= is logged first.
      event("client", { queueId: "BBB222", client: loopback, pid: 200 }),
      delivery(
        "AAA111",
        "carol@far.example",
        "sent",
        "250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as BBB222",
        {
          relay: "127.0.0.1[127.0.0.1]:10024",
          forwardedQueueId: "BBB222",
        },
      ),
      event("removed", { queueId: "AAA111" }),
      event("client", { queueId: "BBB222", client: loopback, pid: 200 }),
      delivery("BBB222", "carol@far.example", "sent", "250 2.0.0 Ok"),
      event("removed", { queueId: "BBB222" }),
    ]);
    const [filtered, reinjected] = messagesIn(out);
    assert.deepEqual(filtered?.forwardedQueueIds, ["BBB222"]);
    assert.equal(filtered?.recipients[0]?.handedOff, true, "the recipient's fate is in BBB222, not here");
    assert.equal(reinjected?.recipients[0]?.handedOff, undefined);
    assert.equal(reinjected?.queueId, "BBB222");
    assert.deepEqual(reinjected?.client, origin);
    assert.equal(reinjected?.saslUsername, "bob@example.org");
    assert.equal(reinjected?.saslMethod, "PLAIN");
  });

  describe("a re-injected message that ends before the filter's reply names it", () => {
    // The order a real Postfix 3.7 logged (test/integration/postfix-scenario.ts): the new message is
    // queued, delivered and removed while the smtp client is still to log the original's `queued as`.
    const origin = { host: "laptop.example.org", ip: "198.51.100.20" };
    const loopback = { host: "localhost", ip: "127.0.0.1" };
    const submitted = [
      event("client", { queueId: "AAA111", client: origin, saslMethod: "PLAIN", saslUsername: "alice" }),
      event("queued", { queueId: "AAA111", from: "alice@example.org", size: 900, nrcpt: 1 }),
      event("client", { queueId: "BBB222", client: loopback, pid: 200, ts: tsAt(T0 + SECOND) }),
      event("queued", {
        queueId: "BBB222",
        from: "alice@example.org",
        size: 1200,
        nrcpt: 1,
        ts: tsAt(T0 + SECOND),
      }),
      delivery("BBB222", "a@remote.test", "sent", "remote.test", { ts: tsAt(T0 + SECOND) }),
      event("removed", { queueId: "BBB222", ts: tsAt(T0 + SECOND) }),
    ];
    const reply = (ms: number) =>
      delivery("AAA111", "a@remote.test", "sent", "250 2.0.0 Ok: queued as BBB222", {
        forwardedQueueId: "BBB222",
        ts: tsAt(ms),
      });

    it("holds its summary until the reply links it, then gives it the submitter", () => {
      const correlator = new Correlator();
      assert.deepEqual(messagesIn(pushAll(correlator, submitted)), [], "held for the reply");
      assert.ok(correlator.isOpen("mail.example", "BBB222"));
      const out = pushAll(correlator, [
        reply(T0 + 2 * SECOND),
        event("removed", { queueId: "AAA111", ts: tsAt(T0 + 2 * SECOND) }),
      ]);
      const [reinjected, original] = messagesIn(out);
      assert.equal(reinjected?.queueId, "BBB222");
      assert.equal(reinjected?.forwardedFrom, "AAA111");
      assert.equal(reinjected?.saslUsername, "alice");
      assert.deepEqual(reinjected?.client, origin);
      assert.equal(reinjected?.end, "removed");
      assert.equal(original?.recipients[0]?.handedOff, true);
      assert.equal(correlator.stats().messages, 0);
    });

    it("lets it go as it is once handOffGraceSeconds pass without a reply", () => {
      const correlator = new Correlator({ handOffGraceSeconds: 10 });
      pushAll(correlator, submitted);
      assert.deepEqual(messagesIn(correlator.sweep(T0 + 10 * SECOND)), [], "still within the grace");
      const [alone] = messagesIn(correlator.sweep(T0 + 11 * SECOND));
      assert.equal(alone?.queueId, "BBB222");
      assert.equal(alone?.forwardedFrom, undefined);
      assert.deepEqual(alone?.client, loopback);
      const late = messagesIn(pushAll(correlator, [reply(T0 + 12 * SECOND)]));
      assert.deepEqual(late, [], "the late reply is parked, not a second summary");
    });

    it("never holds mail from a remote client or a logged-in one", () => {
      for (const client of [
        event("client", { queueId: "CCC333", client: origin }),
        event("client", { queueId: "CCC333", client: loopback, saslUsername: "script" }),
      ]) {
        const out = pushAll(new Correlator(), [client, event("removed", { queueId: "CCC333" })]);
        assert.equal(messagesIn(out).length, 1);
      }
    });
  });

  it("names the local uid behind mail handed to sendmail, and hands it on with the message", () => {
    const out = pushAll(new Correlator(), [
      event("pickup", { queueId: "P1", uid: 33, from: "wordpress@example.org", daemon: "pickup" }),
      event("queued", { queueId: "P1", from: "wordpress@example.org", size: 400, nrcpt: 1 }),
      event("client", { queueId: "P2", client: { host: "localhost", ip: "127.0.0.1" }, pid: 200 }),
      delivery("P1", "v@far.example", "sent", "250 2.0.0 Ok: queued as P2", { forwardedQueueId: "P2" }),
      event("removed", { queueId: "P1" }),
      delivery("P2", "v@far.example", "sent", "250 2.0.0 Ok"),
      event("removed", { queueId: "P2" }),
    ]);
    const [original, copy] = messagesIn(out);
    assert.deepEqual([original?.localUid, original?.client], [33, undefined]);
    assert.deepEqual([copy?.queueId, copy?.localUid, copy?.forwardedFrom], ["P2", 33, "P1"]);
  });

  it("parks a hand-off until the new queue ID shows up, and never invents state for it", () => {
    const correlator = new Correlator();
    pushAll(correlator, [
      event("client", {
        queueId: "AAA111",
        client: { host: "unknown", ip: "203.0.113.7" },
        saslUsername: "bob",
      }),
      delivery("AAA111", "carol@far.example", "sent", "250 2.0.0 Ok: queued as REMOTE1", {
        forwardedQueueId: "REMOTE1",
      }),
    ]);
    assert.equal(correlator.stats().messages, 1);
    const out = pushAll(correlator, [
      event("queued", { queueId: "REMOTE1", from: "bob@example.org", size: 1, nrcpt: 1 }),
      event("removed", { queueId: "REMOTE1" }),
    ]);
    assert.equal(only(messagesIn(out)).saslUsername, "bob");
  });

  it("lets a later attempt replace a deferred recipient, but never downgrades a final one", () => {
    const correlator = new Correlator();
    const out = pushAll(correlator, [
      delivery(
        "CCC333",
        "dan@far.example",
        "deferred",
        "connect to mx.far.example[198.51.100.5]:25: Connection timed out",
      ),
      delivery("CCC333", "eve@far.example", "sent", "250 2.0.0 Ok"),
      delivery("CCC333", "dan@far.example", "sent", "250 2.0.0 Ok: later"),
      delivery("CCC333", "eve@far.example", "deferred", "duplicate log line"),
      event("removed", { queueId: "CCC333" }),
    ]);
    const message = only(messagesIn(out));
    assert.deepEqual(
      message.recipients.map((r) => [r.to, r.status, r.response]),
      [
        ["dan@far.example", "sent", "250 2.0.0 Ok: later"],
        ["eve@far.example", "sent", "250 2.0.0 Ok"],
      ],
    );
  });

  it("ends an expired message at its removal with end `expired`", () => {
    const correlator = new Correlator();
    const out = pushAll(correlator, [
      delivery("DDD444", "dan@far.example", "deferred", "Connection timed out"),
      event("expired", { queueId: "DDD444", from: "alice@example.org", forced: false }),
      event("bounce_notice", {
        queueId: "DDD444",
        notice: "non-delivery",
        recipient: "sender",
        bounceQueueId: "EEE555",
      }),
      event("removed", { queueId: "DDD444" }),
    ]);
    const message = only(messagesIn(out));
    assert.equal(message.end, "expired");
    assert.equal(message.from, "alice@example.org");
  });

  it("ends a message that cleanup rejected whole, which qmgr never logs as removed", () => {
    const correlator = new Correlator();
    const client = { host: "spam.example", ip: "192.0.2.9" };
    const out = pushAll(correlator, [
      event("client", { queueId: "FFF666", client }),
      event("reject", {
        daemon: "cleanup",
        queueId: "FFF666",
        action: "milter-reject",
        stage: "END-OF-MESSAGE",
        reason: "5.7.1 Blocked by SpamAssassin",
        category: "content",
        client,
      }),
    ]);
    assert.equal(only(messagesIn(out)).end, "removed");
    assert.equal(correlator.stats().messages, 0);
  });

  it("takes the message's own message-id, not a Resent-Message-ID logged after it", () => {
    const correlator = new Correlator();
    const out = pushAll(correlator, [
      event("message_id", { queueId: "RES1", messageId: "orig@x.example" }),
      event("message_id", { queueId: "RES1", messageId: "resent@x.example", resent: true }),
      event("queued", { queueId: "RES1", from: "a@x.example", size: 1, nrcpt: 1 }),
      event("removed", { queueId: "RES1" }),
    ]);
    assert.equal(only(messagesIn(out)).messageId, "orig@x.example");
  });

  it("keeps each recipient's remote rejection, so a rule over summaries sees mail refused as spam", () => {
    const correlator = new Correlator();
    const out = pushAll(correlator, [
      event("queued", { queueId: "SPAM1", from: "a@x.example", size: 1, nrcpt: 2 }),
      delivery("SPAM1", "b@far.example", "bounced", "host mx[198.51.100.5] said: 550 5.7.1 spam", {
        replyCode: 550,
        remoteRejection: "spam",
      }),
      delivery("SPAM1", "c@far.example", "sent", "250 2.0.0 Ok"),
      event("removed", { queueId: "SPAM1" }),
    ]);
    const recipients = only(messagesIn(out)).recipients;
    assert.deepEqual(
      recipients.map((recipient) => [recipient.to, recipient.remoteRejection]),
      [
        ["b@far.example", "spam"],
        ["c@far.example", undefined],
      ],
    );
  });

  it("keeps the same queue ID on two hosts apart and emits nothing for an unknown removal", () => {
    const correlator = new Correlator();
    const out = pushAll(correlator, [
      event("queued", { queueId: "ABC123", host: "mx1", from: "a@x.example", size: 1, nrcpt: 1 }),
      event("queued", { queueId: "ABC123", host: "mx2", from: "b@x.example", size: 2, nrcpt: 1 }),
      event("removed", { queueId: "ABC123", host: "mx2" }),
      event("removed", { queueId: "NEVERSEEN" }),
    ]);
    const message = only(messagesIn(out));
    assert.equal(message.host, "mx2");
    assert.equal(message.from, "b@x.example");
    assert.equal(correlator.stats().messages, 1);
  });
});

describe("Correlator: bounded state", () => {
  it("evicts the least recently updated message past maxMessages, and counts it", () => {
    const correlator = new Correlator({ maxMessages: 2 });
    pushAll(correlator, [
      event("queued", { queueId: "M1", from: "a@x.example", size: 1, nrcpt: 1 }),
      event("queued", { queueId: "M2", from: "a@x.example", size: 1, nrcpt: 1 }),
      event("message_id", { queueId: "M1", messageId: "<m1@x>" }),
    ]);
    const out = correlator.push(event("queued", { queueId: "M3", from: "a@x.example", size: 1, nrcpt: 1 }));
    const evicted = only(messagesIn(out));
    assert.equal(evicted.queueId, "M2");
    assert.equal(evicted.end, "evicted");
    assert.deepEqual(correlator.stats(), {
      messages: 2,
      sessions: 0,
      evictedMessages: 1,
      evictedSessions: 0,
    });
  });

  it("evicts messages idle past maxMessageAgeSeconds on sweep, stamped with their last line", () => {
    const correlator = new Correlator({ maxMessageAgeSeconds: 60 });
    pushAll(correlator, [
      event("queued", { queueId: "OLD1", ts: tsAt(T0), from: "a@x.example", size: 1, nrcpt: 1 }),
      delivery("OLD1", "b@far.example", "deferred", "greylisted", { ts: tsAt(T0 + 30 * SECOND) }),
      event("queued", {
        queueId: "NEW1",
        ts: tsAt(T0 + 100 * SECOND),
        from: "a@x.example",
        size: 1,
        nrcpt: 1,
      }),
    ]);
    assert.deepEqual(messagesIn(correlator.sweep(T0 + 90 * SECOND)), []);
    const evicted = only(messagesIn(correlator.sweep(T0 + 91 * SECOND)));
    assert.equal(evicted.queueId, "OLD1");
    assert.equal(evicted.ts, tsAt(T0 + 30 * SECOND));
    assert.equal(evicted.firstSeen, tsAt(T0));
    assert.deepEqual(correlator.stats(), {
      messages: 1,
      sessions: 0,
      evictedMessages: 1,
      evictedSessions: 0,
    });
  });
});

describe("Correlator: smtpd sessions (seed 002)", () => {
  const pid = 32451;
  const client = { host: "unknown", ip: "176.103.49.30" };
  const session = (ts: string) => ({ pid, ts, queueId: undefined });

  it("gives client-less debug lines the session's client and carries AUTH PLAIN's user to the failure", () => {
    const correlator = new Correlator();
    const authLine = event("debug", {
      ...session("2026-02-23T11:57:43Z"),
      text: "Read 45 chars: AUTH PLAIN <redacted>",
      authUsername: "admin@fipick.com",
    });
    const failure = event("sasl_auth_failed", {
      ...session("2026-02-23T11:57:45Z"),
      client,
      mechanism: "PLAIN",
      reason: "",
    });
    const out = pushAll(correlator, [
      event("connect", { ...session("2026-02-23T11:57:42Z"), client }),
      event("debug", { ...session("2026-02-23T11:57:42Z"), text: "SSL_accept:before/accept initialization" }),
      authLine,
      failure,
      event("debug", { ...session("2026-02-23T11:57:45Z"), text: "Read 3 chars: *??" }),
    ]);
    const [, handshake, auth, failed, afterwards] = out;
    assert.deepEqual(handshake?.kind === "debug" && handshake.client, client);
    assert.deepEqual(auth?.kind === "debug" && auth.client, client);
    assert.equal(failed?.kind === "sasl_auth_failed" && failed.saslUsername, "admin@fipick.com");
    assert.deepEqual(afterwards?.kind === "debug" && afterwards.client, client);
    assert.equal(failure.saslUsername, undefined, "the input event is not mutated");
    assert.equal(authLine.client, undefined, "the input event is not mutated");
    assert.equal(correlator.stats().sessions, 1);
  });

  it("uses an AUTH PLAIN user once, only for a PLAIN failure, and forgets the session at disconnect", () => {
    const correlator = new Correlator();
    const ts = "2026-02-23T11:57:45Z";
    const out = pushAll(correlator, [
      event("connect", { ...session(ts), client }),
      event("debug", { ...session(ts), text: "AUTH PLAIN", authUsername: "admin@fipick.com" }),
      event("sasl_auth_failed", { ...session(ts), client, mechanism: "LOGIN", reason: "Password:" }),
      event("debug", { ...session(ts), text: "AUTH PLAIN", authUsername: "root@fipick.com" }),
      event("sasl_auth_failed", { ...session(ts), client, mechanism: "PLAIN", reason: "" }),
      event("sasl_auth_failed", { ...session(ts), client, mechanism: "PLAIN", reason: "" }),
      event("disconnect", { ...session(ts), client, commands: { auth: { ok: 0, total: 2 } } }),
      event("debug", { ...session(ts), text: "initializing the server-side TLS engine" }),
    ]);
    const failures = out.filter((e) => e.kind === "sasl_auth_failed");
    assert.deepEqual(
      failures.map((e) => e.saslUsername),
      [undefined, "root@fipick.com", undefined],
    );
    const last = out.at(-1);
    assert.equal(last?.kind === "debug" && last.client, undefined);
    assert.equal(correlator.stats().sessions, 0);
  });

  it("picks up a session joined midway, and replaces one whose disconnect was lost", () => {
    const correlator = new Correlator();
    const other = { host: "unknown", ip: "192.0.2.77" };
    const out = pushAll(correlator, [
      event("sasl_auth_failed", { ...session(tsAt(T0)), client, mechanism: "LOGIN", reason: "" }),
      event("debug", { ...session(tsAt(T0)), text: "Read 3 chars: *??" }),
      event("lost_connection", { ...session(tsAt(T0)), client: other, stage: "AUTH" }),
      event("debug", { ...session(tsAt(T0)), text: "Read 4 chars: QUIT" }),
    ]);
    const debugClients = out.filter((e) => e.kind === "debug").map((e) => e.client);
    assert.deepEqual(debugClients, [client, other]);
  });

  it("forgets sessions whose disconnect never came, and counts them", () => {
    const correlator = new Correlator({ maxSessionAgeSeconds: 60 });
    correlator.push(event("connect", { ...session(tsAt(T0)), client }));
    correlator.sweep(T0 + 61 * SECOND);
    assert.deepEqual(correlator.stats(), {
      messages: 0,
      sessions: 0,
      evictedSessions: 1,
      evictedMessages: 0,
    });
  });
});

describe("Correlator: summarizeAt first_pass (the detector's mode)", () => {
  const greylisted = "host mx.far.example[198.51.100.5] said: 450 4.7.1 Greylisted, try again later";
  const rateLimited =
    "host gmail-smtp-in.l.google.com[142.250.27.26] said: 421-4.7.0 [192.0.2.25] Our system has detected an unusual rate of unsolicited mail originating from your IP address. (in reply to end of DATA command)";
  const firstPass = () => new Correlator({ summarizeAt: "first_pass" });
  const at = (seconds: number) => ({ ts: tsAt(T0 + seconds * SECOND) });
  const submitted = (queueId: string, nrcpt: number): PostfixEvent[] => [
    event("client", {
      queueId,
      client: { host: "unknown", ip: "203.0.113.66" },
      saslMethod: "LOGIN",
      saslUsername: "printer@xxx.example",
    }),
    event("queued", { queueId, from: "printer@xxx.example", size: 4000, nrcpt }),
  ];

  it("summarizes a message when its last recipient's first attempt is deferred, and once only", () => {
    const correlator = firstPass();
    const early = pushAll(correlator, [
      ...submitted("A1B2C3D4E5", 3),
      delivery("A1B2C3D4E5", "a@one.example", "sent", "250 2.0.0 Ok", at(1)),
      delivery("A1B2C3D4E5", "b@gmail.example", "deferred", rateLimited, at(2)),
    ]);
    assert.deepEqual(messagesIn(early), [], "c@ has had no attempt yet");
    const deferral = delivery("A1B2C3D4E5", "c@two.example", "deferred", greylisted, at(3));
    const message = only(messagesIn(correlator.push(deferral)));
    assert.equal(message.end, "first_pass");
    assert.equal(message.ts, deferral.ts, "stamped with the line that ended the first pass");
    assert.equal(message.saslUsername, "printer@xxx.example");
    assert.equal(message.from, "printer@xxx.example");
    assert.deepEqual(
      message.recipients.map((r) => [r.to, r.status]),
      [
        ["a@one.example", "sent"],
        ["b@gmail.example", "deferred"],
        ["c@two.example", "deferred"],
      ],
    );
    assert.equal(correlator.isOpen("mail.example", "A1B2C3D4E5"), false, "its summary is not to come");

    const later = pushAll(correlator, [
      event("queued", {
        queueId: "A1B2C3D4E5",
        from: "printer@xxx.example",
        size: 4000,
        nrcpt: 3,
        ...at(900),
      }),
      delivery("A1B2C3D4E5", "b@gmail.example", "sent", "250 2.0.0 Ok", at(901)),
      delivery("A1B2C3D4E5", "c@two.example", "sent", "250 2.0.0 Ok", at(902)),
      event("removed", { queueId: "A1B2C3D4E5", ...at(902) }),
    ]);
    assert.deepEqual(messagesIn(later), [], "retries and removal add no second summary");
    assert.deepEqual(messagesIn(correlator.sweep(Number.POSITIVE_INFINITY)), []);
    assert.equal(correlator.stats().messages, 0, "removed forgets the stub");
  });

  it("summarizes a message whose recipients all reach a final status at its removal, as the default mode does", () => {
    const lines = [
      ...submitted("B1C2D3E4F5", 2),
      delivery("B1C2D3E4F5", "a@one.example", "sent", "250 2.0.0 Ok", at(1)),
      delivery("B1C2D3E4F5", "b@two.example", "bounced", "550 5.1.1 User unknown", at(2)),
      event("removed", { queueId: "B1C2D3E4F5", ...at(3) }),
    ];
    const correlator = firstPass();
    const atLastDelivery = pushAll(correlator, lines.slice(0, -1));
    assert.deepEqual(messagesIn(atLastDelivery), [], "nothing is left queued: removed follows at once");
    const message = only(messagesIn(correlator.push(lines.at(-1) as PostfixEvent)));
    assert.equal(message.end, "removed");
    assert.deepEqual(message, only(messagesIn(pushAll(new Correlator(), lines))));
  });

  it("waits for the end when qmgr's nrcpt was never seen (the log starts mid-story)", () => {
    const correlator = firstPass();
    const out = pushAll(correlator, [
      delivery("C1D2E3F4A5", "a@one.example", "deferred", greylisted, at(1)),
      event("removed", { queueId: "C1D2E3F4A5", ...at(2) }),
    ]);
    assert.equal(only(messagesIn(out)).end, "removed");
  });

  it("links a bounce notification that comes after the early summary", () => {
    const correlator = firstPass();
    const out = pushAll(correlator, [
      ...submitted("D1E2F3A4B5", 2),
      delivery("D1E2F3A4B5", "a@one.example", "bounced", "551 virus infected mail rejected", at(1)),
      delivery("D1E2F3A4B5", "b@gmail.example", "deferred", rateLimited, at(2)),
      event("message_id", { queueId: "E1F2A3B4C5", messageId: "<bounce-1@mail.xxx.example>", ...at(2) }),
      event("bounce_notice", {
        queueId: "D1E2F3A4B5",
        notice: "non-delivery",
        recipient: "sender",
        bounceQueueId: "E1F2A3B4C5",
        ...at(2),
      }),
      event("queued", { queueId: "E1F2A3B4C5", from: "", size: 2554, nrcpt: 1, ...at(2) }),
      delivery("E1F2A3B4C5", "printer@xxx.example", "sent", "250 2.0.0 Ok", at(3)),
      event("removed", { queueId: "E1F2A3B4C5", ...at(3) }),
      delivery("D1E2F3A4B5", "b@gmail.example", "sent", "250 2.0.0 Ok", at(600)),
      event("removed", { queueId: "D1E2F3A4B5", ...at(600) }),
    ]);
    const [original, notification] = messagesIn(out);
    assert.equal(messagesIn(out).length, 2);
    assert.equal(original?.queueId, "D1E2F3A4B5");
    assert.equal(original?.end, "first_pass");
    assert.deepEqual(original?.bounceQueueIds, [], "the notification was logged after the summary");
    assert.equal(notification?.queueId, "E1F2A3B4C5");
    assert.equal(notification?.end, "removed");
    assert.equal(notification?.bounceOf, "D1E2F3A4B5");
    assert.equal(notification?.messageId, "<bounce-1@mail.xxx.example>");
    assert.equal(correlator.stats().messages, 0);
  });

  it("hands a content filter's re-injected message its origin, before and after the early summary", () => {
    const correlator = firstPass();
    const loopback = { host: "localhost", ip: "127.0.0.1" };
    const toFilter = (queueId: string, to: string, newId: string, seconds: number) =>
      delivery(
        queueId,
        to,
        "sent",
        `250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as ${newId}`,
        {
          relay: "127.0.0.1[127.0.0.1]:10024",
          forwardedQueueId: newId,
          ...at(seconds),
        },
      );
    const out = pushAll(correlator, [
      // F1 goes through the filter at once: one hand-off line per recipient, all sent, so it ends at removal.
      ...submitted("F1A2B3C4D5", 2),
      event("client", { queueId: "F2A3B4C5D6", client: loopback, pid: 200, ...at(1) }),
      event("queued", { queueId: "F2A3B4C5D6", from: "printer@xxx.example", size: 4100, nrcpt: 2, ...at(1) }),
      toFilter("F1A2B3C4D5", "a@one.example", "F2A3B4C5D6", 1),
      toFilter("F1A2B3C4D5", "b@gmail.example", "F2A3B4C5D6", 1),
      event("removed", { queueId: "F1A2B3C4D5", ...at(1) }),
      delivery("F2A3B4C5D6", "a@one.example", "sent", "250 2.0.0 Ok", at(2)),
      delivery("F2A3B4C5D6", "b@gmail.example", "deferred", rateLimited, at(3)),
      // G1 finds the filter down: summarized at that deferral, its hand-off comes on the retry.
      ...submitted("A9B8C7D6E5", 1),
      delivery(
        "A9B8C7D6E5",
        "c@two.example",
        "deferred",
        "connect to 127.0.0.1[127.0.0.1]:10024: Connection refused",
        at(4),
      ),
      toFilter("A9B8C7D6E5", "c@two.example", "B9C8D7E6F5", 300),
      event("removed", { queueId: "A9B8C7D6E5", ...at(300) }),
      event("client", { queueId: "B9C8D7E6F5", client: loopback, pid: 201, ...at(301) }),
      event("queued", {
        queueId: "B9C8D7E6F5",
        from: "printer@xxx.example",
        size: 4100,
        nrcpt: 1,
        ...at(301),
      }),
      delivery("B9C8D7E6F5", "c@two.example", "sent", "250 2.0.0 Ok", at(302)),
      event("removed", { queueId: "B9C8D7E6F5", ...at(302) }),
    ]);
    const summaries = messagesIn(out).map((m) => [m.queueId, m.end, m.saslUsername, m.forwardedFrom]);
    assert.deepEqual(summaries, [
      ["F1A2B3C4D5", "removed", "printer@xxx.example", undefined],
      ["F2A3B4C5D6", "first_pass", "printer@xxx.example", "F1A2B3C4D5"],
      ["A9B8C7D6E5", "first_pass", "printer@xxx.example", undefined],
      ["B9C8D7E6F5", "removed", "printer@xxx.example", "A9B8C7D6E5"],
    ]);
    assert.deepEqual(messagesIn(out)[0]?.forwardedQueueIds, ["F2A3B4C5D6"]);
  });

  it("keeps the stubs within maxMessages, dropping them silently but counted", () => {
    const correlator = new Correlator({ summarizeAt: "first_pass", maxMessages: 2 });
    const out = pushAll(correlator, [
      event("queued", { queueId: "M1M1M1", from: "a@x.example", size: 1, nrcpt: 1 }),
      delivery("M1M1M1", "b@far.example", "deferred", greylisted),
      event("queued", { queueId: "M2M2M2", from: "a@x.example", size: 1, nrcpt: 1 }),
      event("queued", { queueId: "M3M3M3", from: "a@x.example", size: 1, nrcpt: 1 }),
    ]);
    assert.deepEqual(
      messagesIn(out).map((m) => [m.queueId, m.end]),
      [["M1M1M1", "first_pass"]],
      "M1's stub made room for M3 without a second summary",
    );
    assert.deepEqual(correlator.stats(), {
      messages: 2,
      sessions: 0,
      evictedMessages: 1,
      evictedSessions: 0,
    });
    const evicted = messagesIn(correlator.sweep(Number.POSITIVE_INFINITY));
    assert.deepEqual(
      evicted.map((m) => [m.queueId, m.end]),
      [
        ["M2M2M2", "evicted"],
        ["M3M3M3", "evicted"],
      ],
    );
  });
});
