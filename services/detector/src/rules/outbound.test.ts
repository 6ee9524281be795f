import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Alert } from "../../../../shared/src/contracts/alerts.js";
import type { PostfixEvent } from "../../../../shared/src/contracts/events.js";
import { byTime, delivery, HOUR, MINUTE, message, recipient, replay } from "./fixtures.js";

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
    assert.equal(alert.count, 100, "100 recipient domains within 25 messages trips it first");
    assert.equal(alert.facts.distinct, 100);
    assert.deepEqual(alert.related.clientIps, ["203.0.113.50", "198.51.100.77"]);
    assert.ok(Number(alert.facts.bouncedRecipients) > 0);
    const rejections = (alert.facts.remoteRejections as string[]).join("\n");
    assert.match(rejections, /551 virus infected/);
    assert.match(rejections, /552-5\.7\.0 This message was blocked/);
    assert.match((alert.facts.topRecipientDomains as string[]).at(-1) ?? "", /^other \(\d+\)$/);
    assert.match(
      alert.summary,
      /^SASL user info@xxx\.com looks compromised: 100 recipients in 25 messages over 100 domains in 1h \(baseline 0\)/,
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
});
