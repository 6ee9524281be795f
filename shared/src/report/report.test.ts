import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PostfixEvent } from "../contracts/events.js";
import { Correlator } from "../postfix/correlate.js";
import {
  buildReport,
  formatReport,
  localAccount,
  NO_SASL_LOGIN,
  ReportBuilder,
  remoteReason,
} from "./report.js";
import { syntheticDay } from "./report.testkit.js";

describe("buildReport", () => {
  const report = buildReport(syntheticDay());

  it("counts pflogsumm's grand totals by pflogsumm's definitions", () => {
    assert.deepEqual(report.totals, {
      received: 6, // client= Q1 Q2 Q3 Q4 Q5 + pickup P1
      delivered: 4, // Q1 a, B1, Q3 (to the filter), Q4
      forwarded: 1, // P1's alias
      deferred: 1,
      deferrals: 2,
      bounced: 2,
      rejected: 4, // smtpd's two, postscreen's and cleanup's milter-reject (pflogsumm 1.1.5)
      rejectedPercent: 50, // 4 / (4 + 4 + 0)
      rejectWarnings: 1,
      held: 0,
      discarded: 0,
      discardedPercent: 0,
      bytesReceived: 2050, // Q1 1000 + Q2 500 + Q3 200 + Q4 250 + P1 100; B1 was not received
      bytesDelivered: 1750, // Q1 1000 + B1 300 + Q3 200 + Q4 250
      senders: 4, // spoofed@bank.example, x@corp.example, alice@corp.example, root
      recipients: 3,
      recipientDomains: 3,
    });
  });

  it("ranks SASL accounts by recipients, with their IPs, bounce ratio and the remote refusals", () => {
    assert.deepEqual(report.senderAccounts, [
      {
        account: "printer@corp.example",
        messages: 2,
        recipients: 4,
        recipientDomains: 3,
        clientIps: ["203.0.113.66"],
        sent: 1,
        bounced: 2,
        deferred: 1,
        bounceRatio: 0.5,
        rejectionReasons: [
          { reason: "551 virus infected mail rejected", count: 2 },
          { reason: "connect to mx.three.example[198.51.100.4]:25: Connection timed out", count: 1 },
        ],
      },
      {
        // Counted once, on the re-queued Q4 that inherited the login, not on the hop to the filter.
        account: "alice@corp.example",
        messages: 1,
        recipients: 1,
        recipientDomains: 1,
        clientIps: ["192.0.2.50"],
        sent: 1,
        bounced: 0,
        deferred: 0,
        bounceRatio: 0,
        rejectionReasons: [],
      },
      {
        // P1, handed to sendmail by root: pickup's `uid=0`.
        account: localAccount(0),
        messages: 1,
        recipients: 1,
        recipientDomains: 1,
        clientIps: [],
        sent: 1,
        bounced: 0,
        deferred: 0,
        bounceRatio: 0,
        rejectionReasons: [],
      },
      {
        account: NO_SASL_LOGIN,
        messages: 1, // Q5, rejected whole by cleanup
        recipients: 0,
        recipientDomains: 0,
        clientIps: ["198.51.100.11"],
        sent: 0,
        bounced: 0,
        deferred: 0,
        bounceRatio: 0,
        rejectionReasons: [],
      },
    ]);
  });

  it("ranks failing clients, with users recovered from AUTH PLAIN debug lines", () => {
    assert.deepEqual(report.failingClients, [
      { ip: "176.103.49.30", saslFailures: 3, rejects: 0, attemptedUsers: ["admin@fipick.com"] },
      { ip: "198.51.100.9", saslFailures: 0, rejects: 2, attemptedUsers: [] },
      { ip: "198.51.100.10", saslFailures: 0, rejects: 1, attemptedUsers: [] },
      { ip: "198.51.100.11", saslFailures: 0, rejects: 1, attemptedUsers: [] },
    ]);
  });

  it("ignores message summaries already in the input", () => {
    const correlator = new Correlator();
    const replayedStream = syntheticDay().flatMap((event) => correlator.push(event));
    replayedStream.push(...correlator.sweep(Number.POSITIVE_INFINITY));
    assert.ok(replayedStream.some((event) => event.kind === "message"));
    assert.deepEqual(buildReport(replayedStream), report);
  });

  it("counts a content filter's hop once, whichever of the two summaries comes first", () => {
    // The re-queued Q4 leaves the queue before the original Q3: Q4's summary is made first.
    const day = syntheticDay();
    const q3Removed = day.findIndex((e) => e.kind === "removed" && e.queueId === "Q3");
    const [removed] = day.splice(q3Removed, 1);
    const q4Removed = day.findIndex((e) => e.kind === "removed" && e.queueId === "Q4");
    day.splice(q4Removed + 1, 0, removed as PostfixEvent);
    const reordered = buildReport(day);
    assert.deepEqual(aliceOf(reordered), { messages: 1, recipients: 1 });
    assert.deepEqual(reordered, report);
  });

  it("counts a content filter's hop once when the filter's reply is logged before the re-queued message", () => {
    // Q3's `queued as Q4` comes before any Q4 line: the hand-off is parked, and Q3's summary waits.
    const day = syntheticDay();
    const isQ4 = (e: PostfixEvent) => e.queueId === "Q4" && e.kind !== "delivery" && e.kind !== "removed";
    const q4Lines = day.filter(isQ4);
    const rest = day.filter((e) => !isQ4(e));
    const q3Removed = rest.findIndex((e) => e.kind === "removed" && e.queueId === "Q3");
    rest.splice(q3Removed + 1, 0, ...q4Lines);
    const reordered = buildReport(rest);
    assert.deepEqual(aliceOf(reordered), { messages: 1, recipients: 1 });
    assert.deepEqual(reordered, report);
  });

  it("streams: ReportBuilder fed one event at a time is buildReport", () => {
    const builder = new ReportBuilder();
    for (const event of syntheticDay()) builder.add(event);
    assert.deepEqual(builder.finish(), report);
  });

  it("formats a pflogsumm-like block and the two top lists", () => {
    const text = formatReport(report, { top: 2 });
    assert.match(text, /^ {6}6 {2}received$/m);
    assert.match(text, /^ {6}4 {2}rejected \(50%\)$/m);
    assert.match(text, /^ {6}1 {2}deferred {2}\(2 deferrals\)$/m);
    assert.match(
      text,
      /printer@corp\.example\n {9}from 203\.0\.113\.66\n {12}2x 551 virus infected mail rejected/,
    );
    assert.match(text, /alice@corp\.example/);
    assert.doesNotMatch(text, /uid 0 \(local sendmail\)/, "only the top 2 accounts");
    assert.match(text, /3 SASL failures .* 176\.103\.49\.30 {2}users tried: admin@fipick\.com/);
  });

  it("bounds each account's IPs by --top too, naming how many more there are", () => {
    const [first] = report.senderAccounts;
    assert.ok(first);
    const clientIps = ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5"];
    const text = formatReport({ ...report, senderAccounts: [{ ...first, clientIps }] }, { top: 2 });
    assert.match(text, /^ {9}from 192\.0\.2\.1, 192\.0\.2\.2 and 3 more$/m);
  });
});

function aliceOf(report: ReturnType<typeof buildReport>) {
  const alice = report.senderAccounts.find((a) => a.account === "alice@corp.example");
  return alice && { messages: alice.messages, recipients: alice.recipients };
}

describe("remoteReason", () => {
  it("drops who said it and when, so one refusal from many MXs groups", () => {
    assert.equal(
      remoteReason(
        "host aspmx.l.google.com[172.217.194.27] said: 552-5.7.0 This message was blocked (in reply to end of DATA command)",
      ),
      "552-5.7.0 This message was blocked",
    );
  });
});
