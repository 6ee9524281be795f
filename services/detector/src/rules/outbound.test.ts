import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Alert } from "../../../../shared/src/contracts/alerts.js";
import type { EventOf, PostfixEvent } from "../../../../shared/src/contracts/events.js";
import { lineToEvent } from "../../../../shared/src/pipeline/lines.js";
import type { SummarizeAt } from "../../../../shared/src/postfix/correlate.js";
import { AuthSessions } from "../engine/auth-sessions.js";
import { DetectionEngine } from "../engine/engine.js";
import { DetectionPipeline } from "../pipeline.js";
import { byTime, delivery, HOUR, login, MINUTE, message, recipient, replay, T0 } from "./fixtures.js";
import { loadRules } from "./index.js";

const VIRUS =
  "host mxw.mxhichina.com[198.11.189.243] said: 551 virus infected mail rejected (in reply to end of DATA command)";
const GOOGLE_CONTENT =
  "host aspmx.l.google.com[172.217.194.27] said: 552-5.7.0 This message was blocked because its content presents a potential 552-5.7.0 security issue. Please visit 552-5.7.0 https://support.google.com/mail/?p=BlockedMessage to review our 552 5.7.0 message content and attachment content guidelines. z63si3810735ybh.300 - gsmtp (in reply to end of DATA command)";
const GMAIL_RATE =
  "host gmail-smtp-in.l.google.com[142.250.27.26] said: 421-4.7.0 [192.0.2.25] Our system has detected an unusual rate of unsolicited mail originating from your IP address. (in reply to end of DATA command)";
const OUTLOOK_BLOCK =
  "host outlook-com.olc.protection.outlook.com[52.101.8.33] said: 550 5.7.1 Unfortunately, messages from [192.0.2.25] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150). (in reply to MAIL FROM command)";

/**
 * Seed 003: an authenticated account relaying mass mail to many domains, some refused as virus
 * or "security issue", each refusal producing a null-sender bounce back to the forged sender.
 */
function seed003(): PostfixEvent[] {
  const seedDomains = ["inver**.com", "tms**.pl", "medi**.com.cn", "an**.com", "maq**.ae"];
  const events: PostfixEvent[] = [];
  for (let i = 0; i < 100; i += 1) {
    const rcpts = [0, 1, 2, 3].map((j) => {
      const n = i * 4 + j;
      const domain = n < 5 ? seedDomains[n] : `d${n % 150}.example`;
      if (n % 10 === 2) return recipient(`xxx@${domain}`, "bounced", VIRUS);
      if (n % 10 === 4) return recipient(`xxx@${domain}`, "bounced", GOOGLE_CONTENT);
      return recipient(`xxx@${domain}`);
    });
    const ip = i % 2 === 0 ? "203.0.113.50" : "198.51.100.77";
    events.push(message({ at: i * 30, host: "mail.xxx.com", user: "info@xxx.com", ip, recipients: rcpts }));
    if (rcpts.some((r) => r.status === "bounced"))
      events.push(
        message({
          at: i * 30 + 1,
          host: "mail.xxx.com",
          recipients: [recipient("info@xxx.com")],
          bounceOf: "418621D80D",
        }),
      );
  }
  return events;
}

describe("compromised_sender", () => {
  it("fires on seed 003: one SASL account mass-mailing with virus and security-issue rejections", () => {
    const alerts = replay(seed003()).of("compromised_sender");
    assert.equal(alerts.length, 1);
    const alert = Alert.parse(alerts[0]);
    assert.deepEqual(alert.key, { type: "sasl_user", value: "info@xxx.com" });
    assert.equal(alert.severity, "critical");
    // Long before 100 domains: 32 recipients over as many domains, corroborated by the remote
    // content rejections and the bounces they caused.
    assert.equal(alert.count, 32);
    assert.equal(alert.facts.distinct, 32);
    assert.deepEqual(alert.facts.evidence, [
      "32 recipients against a busiest earlier period of 0 recipients and 0 domains",
      "6 remote content rejections",
      "6 of 32 recipients bounced (19%)",
    ]);
    assert.deepEqual(alert.related.clientIps, ["203.0.113.50", "198.51.100.77"]);
    assert.ok(Number(alert.facts.bouncedRecipients) > 0);
    const rejections = (alert.facts.remoteRejections as string[]).join("\n");
    assert.match(rejections, /551 virus infected/);
    assert.match(rejections, /552-5\.7\.0 This message was blocked/);
    assert.match((alert.facts.topRecipientDomains as string[]).at(-1) ?? "", /^other \(\d+\)$/);
    assert.match(
      alert.summary,
      /^SASL user info@xxx\.com looks compromised: 32 recipients in 8 messages over 32 domains in 1h \(baseline 0\), 6 bounced, 0 deferred; why: 32 recipients against/,
    );
  });

  it("stays quiet on a mailing list account with some bounces", () => {
    const events = Array.from({ length: 6 * 12 }, (_, i) =>
      message({
        at: i * 5 * MINUTE,
        user: "lists@example.org",
        ip: "192.0.2.10",
        recipients: Array.from({ length: 10 }, (_, j) =>
          (i + j) % 20 === 0
            ? recipient(`member${j}@old${j}.example`, "bounced", "host mx said: 550 5.1.1 user unknown")
            : recipient(`member${(i * 10 + j) % 200}@d${(i * 10 + j) % 60}.example`),
        ),
      }),
    );
    assert.equal(replay(events).of("compromised_sender").length, 0);
  });

  it("learns a busy sender: heavy office-hours sending alerts on the first day only", () => {
    const events: PostfixEvent[] = [];
    for (let day = 0; day < 3; day += 1)
      for (let minute = 0; minute < 8 * 60; minute += 3)
        events.push(
          message({
            at: day * 24 * HOUR + minute * MINUTE,
            user: "sales@example.org",
            ip: "192.0.2.11",
            recipients: Array.from({ length: 20 }, (_, j) =>
              recipient(`c${(minute + j) % 90}@client${j}.example`),
            ),
          }),
        );
    const alerts = replay(events).of("compromised_sender");
    assert.deepEqual(
      alerts.map((a) => `${a.state} ${a.startsAt.slice(0, 10)}`),
      ["firing 2026-11-03", "resolved 2026-11-03"],
    );
  });
});

describe("local_sender_flood", () => {
  /** A hacked web application: www-data (uid 33) runs sendmail for every recipient. */
  const webSpam = (uid: number, messages: number, perMessage: number, from = "wordpress@example.org") =>
    Array.from({ length: messages }, (_, i) =>
      message({
        at: i * 10,
        from,
        localUid: uid,
        recipients: Array.from({ length: perMessage }, (_, j) =>
          j === 0 && i % 10 === 0
            ? recipient(`x${i}@spamtrap.example`, "bounced", "host mx said: 550 5.7.1 spam message rejected")
            : recipient(`target${i * perMessage + j}@d${(i * perMessage + j) % 80}.example`),
        ),
      }),
    );

  it("names the uid behind a sendmail flood, its envelope senders and what remote servers said", () => {
    const alerts = replay(webSpam(33, 40, 10)).of("local_sender_flood");
    assert.equal(alerts.length, 1);
    const alert = Alert.parse(alerts[0]);
    assert.deepEqual(alert.key, { type: "local_uid", value: "33" });
    assert.equal(alert.count, 300, "fires at 300 recipients, compromised_sender's threshold");
    assert.deepEqual(alert.facts.senders, ["wordpress@example.org (30)"]);
    assert.match((alert.facts.remoteRejections as string[]).join("\n"), /spam message rejected/);
    assert.match(
      alert.summary,
      /^Local uid 33 is sending mass mail through sendmail: 300 recipients in 30 messages/,
    );
    assert.equal(replay(webSpam(33, 40, 10)).of("compromised_sender").length, 0, "no SASL user to blame");
  });

  it("stays quiet on cron and system mail", () => {
    const events = Array.from({ length: 24 }, (_, hour) =>
      message({ at: hour * HOUR, from: "root", localUid: 0, recipients: [recipient("admin@example.org")] }),
    );
    assert.equal(replay(events).of("local_sender_flood").length, 0);
  });

  it("leaves logged-in senders to compromised_sender", () => {
    const events = webSpam(33, 40, 10).map((event) => ({ ...event, saslUsername: "web@example.org" }));
    assert.equal(replay(events).of("local_sender_flood").length, 0);
  });
});

/**
 * Log lines through the detector's own pipeline (correlator → rules), ticking as the live detector
 * does, and the event time each alert was raised at: whether the rule saw the mail in time.
 */
function detect(lines: readonly string[], summarizeAt?: SummarizeAt) {
  const pipeline = new DetectionPipeline({
    rules: loadRules({}),
    ...(summarizeAt !== undefined && { correlator: { summarizeAt } }),
  });
  const raised: { alert: Alert; atMs: number }[] = [];
  const summaries: EventOf<"message">[] = [];
  let lastMs = 0;
  for (const line of lines) {
    const outcome = lineToEvent(line, { referenceTime: Date.UTC(2026, 11, 31), fallbackHost: "" });
    assert.equal(outcome.type, "event", line);
    if (outcome.type !== "event") continue;
    lastMs = outcome.atMs;
    for (const alert of pipeline.tick(lastMs).alerts) raised.push({ alert, atMs: lastMs });
    const { events, alerts } = pipeline.process(outcome.event, lastMs, lastMs);
    for (const alert of alerts) raised.push({ alert, atMs: lastMs });
    for (const e of events) if (e.kind === "message") summaries.push(e);
  }
  // Two quiet hours later, as the live detector's ticks would: every episode has resolved.
  for (const alert of pipeline.tick(lastMs + 2 * HOUR * 1000).alerts) raised.push({ alert, atMs: lastMs });
  return { raised, summaries, of: (rule: string) => raised.filter((r) => r.alert.rule === rule) };
}

/** Writes Postfix's lines for a message's story (submission, qmgr, delivery attempts, removal) at seconds from a start. */
class LogWriter {
  readonly lines: string[] = [];
  constructor(private readonly startMs: number) {}

  say(atSeconds: number, tag: string, text: string): void {
    const iso = new Date(this.startMs + Math.round(atSeconds * 1000)).toISOString();
    this.lines.push(`${iso.slice(0, -1)}000+00:00 mx1 ${tag}: ${text}`);
  }

  submit(at: number, queueId: string, o: { user: string; ip: string; from: string; nrcpt: number }): void {
    this.say(
      at,
      "postfix/submission/smtpd[5701]",
      `${queueId}: client=unknown[${o.ip}], sasl_method=LOGIN, sasl_username=${o.user}`,
    );
    this.say(at + 0.1, "postfix/cleanup[4103]", `${queueId}: message-id=<${queueId}@mail.example>`);
    this.say(
      at + 0.2,
      "postfix/qmgr[1187]",
      `${queueId}: from=<${o.from}>, size=8000, nrcpt=${o.nrcpt} (queue active)`,
    );
  }

  attempt(at: number, queueId: string, to: string, status: "sent" | "deferred", reply: string): void {
    const domain = to.split("@")[1];
    const dsn = status === "sent" ? "2.0.0" : (/ (4\.\d\.\d) /.exec(reply)?.[1] ?? "4.0.0");
    this.say(
      at,
      "postfix/smtp[4310]",
      `${queueId}: to=<${to}>, relay=mx.${domain}[203.0.113.60]:25, delay=3, delays=0.1/0/1/2, dsn=${dsn}, status=${status} (${reply})`,
    );
  }

  removed(at: number, queueId: string): void {
    this.say(at, "postfix/qmgr[1187]", `${queueId}: removed`);
  }

  sorted(): string[] {
    return [...this.lines].sort();
  }
}

const GREYLISTED = "host mx said: 450 4.7.1 Greylisted, try again later (in reply to RCPT TO command)";
const SENT = "250 2.0.0 Ok";

describe("compromised_sender on mail still in the queue (the detector summarizes at first pass)", () => {
  /**
   * Seed 003's flood, with the remote servers pushing back: a message every 30 s to 4 domains, two
   * recipients deferred by each (Gmail's `421-4.7.0 ... unusual rate`, greylisting). Postfix retries
   * them an hour later; only then is a queue file removed.
   */
  const flood = new LogWriter(Date.parse("2026-11-03T14:00:00Z"));
  const queueIds = Array.from({ length: 100 }, (_, i) => `4C${(0x1000_0000 + i).toString(16).toUpperCase()}`);
  for (const [i, queueId] of queueIds.entries()) {
    const at = i * 30;
    const to = [0, 1, 2, 3].map((j) => `xxx@d${(i * 4 + j) % 150}.example`);
    flood.submit(at, queueId, {
      user: "info@xxx.com",
      ip: i % 2 === 0 ? "203.0.113.50" : "198.51.100.77",
      from: "spoofed@bank.example",
      nrcpt: 4,
    });
    flood.attempt(at + 1, queueId, to[0] as string, "sent", SENT);
    flood.attempt(at + 2, queueId, to[1] as string, "deferred", GMAIL_RATE);
    flood.attempt(at + 3, queueId, to[2] as string, "sent", SENT);
    flood.attempt(at + 4, queueId, to[3] as string, "deferred", GREYLISTED);
    flood.attempt(at + HOUR, queueId, to[1] as string, "sent", SENT);
    flood.attempt(at + HOUR + 1, queueId, to[3] as string, "sent", SENT);
    flood.removed(at + HOUR + 1.5, queueId);
  }
  const lines = flood.sorted();
  const firstRemovalMs = Date.parse("2026-11-03T15:00:01.500Z");

  it("fires on the 25th message's first pass, while all of them are still queued", () => {
    const { of, summaries } = detect(lines);
    const [firing, resolved, ...rest] = of("compromised_sender");
    assert.equal(rest.length, 0);
    assert.equal(firing?.alert.state, "firing");
    // The 25th message (i = 24) ends its first pass with its greylisted recipient at 24 × 30 + 4 s.
    assert.equal(firing?.atMs, Date.parse("2026-11-03T14:12:04Z"));
    assert.ok((firing?.atMs ?? Infinity) < firstRemovalMs);
    assert.deepEqual(firing?.alert.key, { type: "sasl_user", value: "info@xxx.com" });
    assert.equal(firing?.alert.count, 100, "100 recipient domains within 25 messages trips it first");
    assert.equal(firing?.alert.facts.deferredRecipients, 50);
    assert.match(
      firing?.alert.summary ?? "",
      /100 recipients in 25 messages over 100 domains in 1h \(baseline 0\), 0 bounced, 50 deferred/,
    );
    assert.match(
      ((firing?.alert.facts.remoteRejections ?? []) as string[]).join("\n"),
      /421-4\.7\.0 .*unusual rate/,
    );

    // Each message was summarized once, at its first pass: the retries and removals an hour later add nothing.
    assert.equal(summaries.length, 100);
    assert.ok(summaries.every((m) => m.end === "first_pass"));
    assert.equal(new Set(summaries.map((m) => m.queueId)).size, 100);
    assert.equal(resolved?.alert.state, "resolved");
    assert.equal(resolved?.alert.count, 400, "every recipient counted once");
    assert.equal(resolved?.alert.facts.messages, 100);
  });

  it("would have waited an hour for the removals had it summarized at removal", () => {
    const firing = detect(lines, "removed").of("compromised_sender")[0];
    assert.equal(firing?.alert.state, "firing");
    assert.ok((firing?.atMs ?? 0) > firstRemovalMs, new Date(firing?.atMs ?? 0).toISOString());
  });

  it("stays quiet for a mailing list whose recipients are partly deferred", () => {
    // Four posts, one every 30 minutes, to 60 subscribers on 60 domains; greylisting defers every
    // third subscriber (more than the 30% bounce ratio, were deferrals taken for bounces), retried
    // 10 minutes later.
    const list = new LogWriter(Date.parse("2026-11-03T09:00:00Z"));
    for (let post = 0; post < 4; post++) {
      const queueId = `3A${(0x2000_0000 + post).toString(16).toUpperCase()}`;
      const at = post * 30 * MINUTE;
      list.submit(at, queueId, {
        user: "list@example.org",
        ip: "192.0.2.40",
        from: "list-bounces@example.org",
        nrcpt: 60,
      });
      for (let m = 0; m < 60; m++) {
        const to = `member${m}@sub${m}.example`;
        list.attempt(
          at + 1 + m / 10,
          queueId,
          to,
          m % 3 === 0 ? "deferred" : "sent",
          m % 3 === 0 ? GREYLISTED : SENT,
        );
        if (m % 3 === 0) list.attempt(at + 10 * MINUTE + m / 10, queueId, to, "sent", SENT);
      }
      list.removed(at + 10 * MINUTE + 7, queueId);
    }
    const { of, summaries } = detect(list.sorted());
    assert.deepEqual(
      of("compromised_sender").map((r) => r.alert.summary),
      [],
    );
    assert.deepEqual(
      summaries.map((m) => [
        m.end,
        m.recipients.length,
        m.recipients.filter((r) => r.status === "deferred").length,
      ]),
      Array.from({ length: 4 }, () => ["first_pass", 60, 20]),
      "each post reached the rule once, at its first pass",
    );
  });
});

describe("compromised_sender behind a content filter", () => {
  it("counts each recipient once, on the re-queued copy, not again on the filtered original", () => {
    // amavis: the original goes to 127.0.0.1:10024, which re-injects it (new queue ID, loopback
    // client) before answering `queued as`; the copy inherits the SASL user and goes out.
    const log = new LogWriter(Date.parse("2026-11-03T14:00:00Z"));
    for (let i = 0; i < 80; i++) {
      const original = `5A${(0x1000_0000 + i).toString(16).toUpperCase()}`;
      const copy = `5B${(0x1000_0000 + i).toString(16).toUpperCase()}`;
      const to = [0, 1, 2, 3].map((j) => `user${j}@d${i * 4 + j}.example`);
      const at = i * 20;
      log.submit(at, original, { user: "info@xxx.com", ip: "203.0.113.50", from: "info@xxx.com", nrcpt: 4 });
      log.say(at + 1, "postfix/smtpd[6000]", `${copy}: client=localhost[127.0.0.1]`);
      log.say(
        at + 1.1,
        "postfix/qmgr[1187]",
        `${copy}: from=<info@xxx.com>, size=8300, nrcpt=4 (queue active)`,
      );
      for (const recipient of to) {
        log.say(
          at + 1.2,
          "postfix/smtp[4311]",
          `${original}: to=<${recipient}>, relay=127.0.0.1[127.0.0.1]:10024, delay=1, delays=0.1/0/0/0.9, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as ${copy})`,
        );
      }
      log.removed(at + 1.3, original);
      for (const [j, recipient] of to.entries()) log.attempt(at + 2 + j * 0.1, copy, recipient, "sent", SENT);
      log.removed(at + 3, copy);
    }
    const [firing, resolved] = detect(log.sorted()).of("compromised_sender");
    assert.equal(firing?.alert.state, "firing");
    assert.equal(resolved?.alert.state, "resolved");
    assert.equal(resolved?.alert.count, 320, "80 messages × 4 recipients, each counted once");
    assert.equal(resolved?.alert.facts.messages, 80);
  });
});

describe("outbound_blocked", () => {
  it("fires when remote servers rate-limit or blocklist us", () => {
    const events = [
      delivery({ at: 0, to: "a@gmail.com", status: "deferred", response: GMAIL_RATE }),
      delivery({ at: 60, to: "b@outlook.com", status: "bounced", response: OUTLOOK_BLOCK }),
      delivery({ at: 120, to: "c@gmail.com", status: "deferred", response: GMAIL_RATE }),
    ];
    const alerts = replay(events).of("outbound_blocked");
    assert.equal(alerts.length, 1);
    assert.deepEqual(alerts[0]?.key, { type: "host", value: "mx1" });
    assert.equal((alerts[0]?.facts.remoteRejections as string[] | undefined)?.length, 2);
  });

  it("stays quiet on content rejections, unknown users and greylisting", () => {
    const events = [
      delivery({ at: 0, to: "a@an**.com", status: "bounced", response: GOOGLE_CONTENT }),
      delivery({ at: 10, to: "b@medi**.com.cn", status: "bounced", response: VIRUS }),
      delivery({
        at: 20,
        to: "c@far.example",
        status: "bounced",
        response: "host mx said: 550 5.1.1 <c@far.example>: User unknown",
      }),
      delivery({
        at: 30,
        to: "d@far.example",
        status: "deferred",
        response: "host mx said: 450 4.7.1 Greylisted, try again later",
      }),
      delivery({
        at: 40,
        to: "e@far.example",
        status: "sent",
        response: "250 2.0.0 Ok: queued; not blocked",
      }),
    ];
    assert.equal(replay(events).of("outbound_blocked").length, 0);
  });
});

describe("bounce_storm", () => {
  const normal = (count: number, step: number) =>
    Array.from({ length: count }, (_, i) =>
      message({ at: i * step, from: "news@example.org", recipients: [recipient(`r${i}@far.example`)] }),
    );
  const bounces = (count: number, step: number) =>
    Array.from({ length: count }, (_, i) =>
      message({
        at: i * step + 1,
        from: "",
        recipients: [recipient(`forged${i}@victim.example`, "deferred")],
      }),
    );

  it("fires when bounces become most of a host's mail", () => {
    const alerts = replay(byTime([...normal(20, 120), ...bounces(60, 40)])).of("bounce_storm");
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]?.count, 50);
    assert.ok(Number(alerts[0]?.facts.messages) < 100);
  });

  it("stays quiet on a busy list host with a normal trickle of bounces", () => {
    assert.equal(replay(byTime([...normal(1000, 3), ...bounces(60, 50)])).of("bounce_storm").length, 0);
  });

  it("counts a bounce that went through a content filter once, not also as its filtered original", () => {
    // 30 bounces, each logged twice: the original handed to the filter, then the re-queued copy.
    const filtered = Array.from({ length: 30 }, (_, i) =>
      message({
        at: i * 40,
        from: "",
        recipients: [
          { ...recipient(`forged${i}@victim.example`), forwardedQueueId: "2B0001", handedOff: true },
        ],
      }),
    );
    const events = byTime([...normal(20, 120), ...bounces(30, 40), ...filtered]);
    assert.equal(replay(events).of("bounce_storm").length, 0, "30 bounces stay under the threshold of 50");
  });
});

describe("compromised_sender on evidence", () => {
  const carol = "carol@example.org";
  const office = "192.0.2.30";
  const intruder = "198.51.100.7";
  const SPAM =
    "host mx.far.example[203.0.113.25] said: 550 5.7.1 Message rejected as spam (in reply to end of DATA command)";
  const UNKNOWN_USER =
    "host mx.far.example[203.0.113.25] said: 550 5.1.1 <x@d.example>: user unknown (in reply to RCPT TO command)";
  const CONTENT = [VIRUS, GOOGLE_CONTENT, SPAM];

  /** Carol's usual days: from the office, a message an hour to two colleagues and a customer. */
  const usualDays = (days: number): PostfixEvent[] =>
    Array.from({ length: days * 8 }, (_, i) => {
      const at = -days * 24 * HOUR + Math.floor(i / 8) * 24 * HOUR + (i % 8) * HOUR;
      return [
        login({ at, ip: office, user: carol, pid: 100 + i }),
        message({
          at: at + 1,
          user: carol,
          ip: office,
          recipients: [
            recipient("dave@example.org"),
            recipient("erin@example.org"),
            recipient(`buyer@c${i % 5}.example`),
          ],
        }),
      ];
    }).flat();

  /**
   * The seed 003 case at a realistic size: from an address carol never used, 60 messages in four
   * minutes to 100 recipients over 40 domains; 12 refused by remote content filters, 8 more unknown.
   */
  const compromise = (from: string): PostfixEvent[] => {
    const events: PostfixEvent[] = [];
    let n = 0;
    let content = 0;
    for (let i = 0; i < 60; i += 1) {
      const recipients = Array.from({ length: i < 40 ? 2 : 1 }, () => {
        n += 1;
        const to = `x${n}@d${n % 40}.example`;
        if (n % 8 === 3 && content < 12) return recipient(to, "bounced", CONTENT[content++ % 3]);
        if (n % 12 === 5) return recipient(to, "bounced", UNKNOWN_USER);
        return recipient(to);
      });
      events.push(login({ at: i * 4, ip: from, user: carol, pid: 9000 + i }));
      events.push(message({ at: i * 4 + 2, user: carol, ip: from, recipients }));
    }
    return events;
  };

  /** When each alert fired, in seconds after T0, replaying event by event. */
  const firedAt = (events: PostfixEvent[]) => {
    const engine = new DetectionEngine({ rules: loadRules() });
    const sessions = new AuthSessions();
    const fired: { at: number; alert: Alert }[] = [];
    for (const event of events)
      for (const alert of engine.process(event, sessions.observe(event)))
        if (alert.rule === "compromised_sender" && alert.state === "firing")
          fired.push({ at: (Date.parse(event.ts) - T0) / 1000, alert });
    return fired;
  };

  it("fires within a minute of the evidence on a moderate compromise from a new address, and says why", () => {
    const attack = compromise(intruder);
    const fired = firedAt([...usualDays(5), ...attack]);
    assert.equal(fired.length, 1);
    const [{ at, alert }] = fired as [{ at: number; alert: Alert }];
    // Twenty domains (abnormal for carol) and the third content rejection come with the tenth
    // message, at 38 s; the new address was there from the first.
    assert.equal(at, 38);
    assert.equal(alert.key.value, carol);
    assert.equal(alert.severity, "critical");
    const evidence = (alert.facts.evidence as string[]).join("\n");
    assert.match(evidence, /^20 recipients against a busiest earlier period of 3 recipients and 2 domains/);
    assert.match(evidence, /\d+ remote content rejections/);
    assert.match(evidence, /from an address new to the user \(198\.51\.100\.7\)/);
    assert.match(alert.summary, /why: /);
  });

  it("needs the corroboration: the same volume from carol's usual address, with no rejections, stays quiet", () => {
    const clean = compromise(office).map((e) =>
      e.kind === "message" ? { ...e, recipients: e.recipients.map((r) => recipient(r.to)) } : e,
    );
    assert.deepEqual(firedAt([...usualDays(5), ...clean]), []);
  });

  it("stays quiet when carol mails forty colleagues at once from her desk", () => {
    const all = Array.from({ length: 40 }, (_, i) => recipient(`colleague${i}@example.org`));
    const events = [
      ...usualDays(5),
      login({ at: 0, ip: office, user: carol, pid: 1 }),
      message({ at: 1, user: carol, ip: office, recipients: all }),
    ];
    assert.deepEqual(firedAt(events), []);
  });

  it("stays quiet on a known newsletter at its usual volume, bounces and an odd spam verdict included", () => {
    const news = "news@example.org";
    const events = Array.from({ length: 4 }, (_, day) =>
      Array.from({ length: 30 }, (_, i) => {
        const at = day * 24 * HOUR + i * 60;
        return [
          login({ at, ip: "192.0.2.40", user: news, pid: 200 + i }),
          message({
            at: at + 1,
            user: news,
            ip: "192.0.2.40",
            recipients: Array.from({ length: 5 }, (_, j) => {
              const to = `reader${i * 5 + j}@r${(i * 5 + j) % 60}.example`;
              if (i === 7 && j === 0) return recipient(to, "bounced", SPAM);
              return (i * 5 + j) % 25 === 0 ? recipient(to, "bounced", UNKNOWN_USER) : recipient(to);
            }),
          }),
        ];
      }).flat(),
    ).flat();
    assert.deepEqual(firedAt(events), []);
  });
});
