/**
 * A real Postfix's messages, whole (the scenario: postfix-scenario.ts): summaries, hand-offs and
 * bounces, trace, the report, detection over the log, and pflogsumm's and fail2ban's view of it.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { replay } from "../../services/cli/src/offline.js";
import type { EventOf } from "../../shared/src/contracts/events.js";
import { buildReport, localAccount } from "../../shared/src/report/report.js";
import { traceQueueId } from "../../shared/src/report/trace.js";
import { postwatchEvents } from "../parity/parity-log.js";
import { fail2banSaslFailuresByIp, runPflogsumm, SAME_DEFINITION } from "../parity/peers.js";
import { ALICE, BOB, runScenario, type ScenarioRun, WEBAPP } from "./postfix-scenario.js";

describe("a real Postfix's log, message by message", () => {
  let scenario: ScenarioRun;
  let postfix: ScenarioRun["postfix"];
  let events: ScenarioRun["events"];
  let summaries: ScenarioRun["summaries"];
  let rawLog: string;

  before(async () => {
    scenario = await runScenario();
    ({ postfix, events, summaries, rawLog } = scenario);
  });

  after(() => scenario?.postfix.stop());

  test("the relayed message's summary names its account and client, and each recipient's fate", () => {
    const relayed = summaries.find(
      (message) => message.saslUsername === ALICE && message.forwardedFrom === undefined,
    );
    assert.ok(relayed, "no summary for alice's authenticated message");
    assert.deepEqual(
      {
        client: relayed.client?.ip,
        saslMethod: relayed.saslMethod,
        from: relayed.from,
        bounces: relayed.bounceQueueIds.length,
      },
      { client: "127.0.0.1", saslMethod: "PLAIN", from: ALICE, bounces: 1 },
    );
    // Purged with `postsuper -d ALL deferred` while c@deferred.test waited. Postfix 3.7 logs only
    // `Deleted: 1 message`, naming no queue ID, so the story has no last line: the summary comes
    // when the input ends (live: when maxMessageAgeSeconds passes), as `evicted`.
    assert.equal(relayed.end, "evicted");
    const purge = events.find((event) => event.kind === "notice" && event.daemon === "postsuper");
    assert.equal(purge?.kind === "notice" && purge.text, "Deleted: 1 message");
    const fate = Object.fromEntries(
      relayed.recipients.map((r) => [r.to, [r.status, r.dsn, r.handedOff ?? false]]),
    );
    assert.deepEqual(fate, {
      "a@remote.test": ["sent", "2.0.0", true],
      "virus@remote.test": ["bounced", "5.7.1", false],
      "c@deferred.test": ["deferred", "4.4.1", false],
    });
    const virus = relayed.recipients.find((r) => r.to === "virus@remote.test");
    assert.match(virus?.response ?? "", /551 5\.7\.1 .*virus infected/);
  });

  test("a policy server and a milter that are down: 451s to the clients, and mail_system_error", async () => {
    const rejects = events.filter((event): event is EventOf<"reject"> => event.kind === "reject");
    const policy = rejects.find((reject) => reject.service === "policy-down");
    assert.deepEqual([policy?.stage, policy?.smtpCode, policy?.dsn, policy?.to], ["RCPT", 451, "4.3.5", BOB]);
    const milter = rejects.filter((reject) => reject.service === "milter-down");
    assert.ok(
      milter.length > 0 &&
        milter.every((reject) => reject.action === "milter-reject" && reject.smtpCode === 451),
    );
    const { alerts } = await replay([postfix.maillog]);
    const failing = alerts.find((alert) => alert.rule === "mail_system_error" && alert.state === "firing");
    assert.deepEqual(failing?.key, { type: "host", value: "mx" });
    assert.match(String(failing?.facts.errors), /problem talking to server|connect to Milter service/);
  });

  test("mail handed to sendmail is told apart by the local uid behind it, in summaries and the report", () => {
    const local = summaries.filter((message) => message.from === WEBAPP);
    assert.ok(
      local.length > 0 && local.every((message) => message.localUid === 0 && message.client === undefined),
    );
    const account = buildReport(events).senderAccounts.find((stats) => stats.account === localAccount(0));
    assert.deepEqual([account?.recipients, account?.sent, account?.recipientDomains], [2, 2, 1]);
  });

  test("trace links the relayed message to its downstream copy, its bounce and the bounce's copy", () => {
    const relayed = summaries.find(
      (message) => message.saslUsername === ALICE && message.forwardedFrom === undefined,
    );
    assert.ok(relayed?.queueId);
    const bounce = relayed.bounceQueueIds[0];
    const trace = traceQueueId(events, relayed.queueId);
    const linked = trace.linked.map((entry) => entry.queueId);
    const byId = new Map(summaries.map((message) => [message.queueId, message]));
    const copyOf = (id: string | undefined) =>
      summaries.find((message) => message.forwardedFrom === id)?.queueId;
    assert.deepEqual(
      new Set(linked),
      new Set([relayed.queueId, copyOf(relayed.queueId), bounce, copyOf(bounce)]),
    );
    assert.equal(byId.get(copyOf(bounce) ?? "")?.from, "", "the bounce's copy is a bounce too");
  });

  test("pflogsumm's Grand Totals equal postwatch's on the lines pflogsumm reads as Postfix's", async (t) => {
    // pflogsumm 1.1.5 takes a line's program as `postfix[/smtps|/submission]/<daemon>` (its
    // --syslog-name swaps in one other name): it skips a second instance (`postfix-down/smtpd/smtpd`)
    // and custom service names (`postfix/policy-down/smtpd`). Both tools read the file without those
    // lines; postwatch counts them too, so on the whole log its totals are larger.
    const PFLOGSUMM_PROGRAM = / postfix(?:\/(?:smtps|submission))?\/[a-z0-9]+\[\d+\]: /;
    const dir = await mkdtemp(join(tmpdir(), "postwatch-real-parity-"));
    try {
      const file = join(dir, "pflogsumm-lines.log");
      await writeFile(
        file,
        rawLog
          .split("\n")
          .filter((line) => PFLOGSUMM_PROGRAM.test(line))
          .join("\n"),
      );
      const theirs = (await runPflogsumm(file)).totals;
      const ours = buildReport(await postwatchEvents(file)).totals;
      const pick = (totals: Record<(typeof SAME_DEFINITION)[number], number>) =>
        Object.fromEntries(SAME_DEFINITION.map((key) => [key, totals[key]]));
      t.diagnostic(`postwatch ${JSON.stringify(pick(ours))}`);
      t.diagnostic(`pflogsumm ${JSON.stringify(pick(theirs))}`);
      assert.deepEqual(pick(ours), pick(theirs), "postwatch (actual) vs pflogsumm (expected)");
      assert.ok(
        ours.received > 0 && ours.delivered > 0 && ours.deferred > 0 && ours.bounced > 0 && ours.rejected > 0,
      );
      const whole = buildReport(events).totals;
      assert.ok(
        whole.received > ours.received && whole.rejected > ours.rejected,
        "the skipped lines count too",
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("fail2ban's postfix-sasl filter matches the same failures, except under a hyphenated syslog_name", async (t) => {
    // fail2ban's filter.d/postfix.conf: `_daemon = postfix(-\w+)?/\w+(?:/smtp[ds])?`, so a service
    // named `submission-debug` (any syslog_name with a hyphen) is not a Postfix daemon to it.
    const FAIL2BAN_DAEMON = /^postfix(-\w+)?\/\w+(?:\/smtp[ds])?$/;
    const failures = events.filter((event) => event.kind === "sasl_auth_failed");
    const dir = await mkdtemp(join(tmpdir(), "postwatch-real-fail2ban-"));
    try {
      const file = join(dir, "maillog");
      await writeFile(file, rawLog);
      const theirs = await fail2banSaslFailuresByIp(file);
      const counted = failures.filter((event) => FAIL2BAN_DAEMON.test(event.program));
      t.diagnostic(
        `postwatch ${failures.length} failures, fail2ban ${JSON.stringify(Object.fromEntries(theirs))}`,
      );
      const byIp: Record<string, number> = {};
      for (const failure of counted)
        if (failure.kind === "sasl_auth_failed") byIp[failure.client.ip] = (byIp[failure.client.ip] ?? 0) + 1;
      assert.deepEqual(Object.fromEntries(theirs), byIp);
      assert.equal(byIp["::1"], 1, "the IPv6 client's failure");
      assert.ok(counted.length < failures.length, "the hyphenated service's failure is postwatch's alone");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("the downstream copy and the bounce link back to the message they came from", () => {
    const relayed = summaries.find(
      (message) => message.saslUsername === ALICE && message.forwardedFrom === undefined,
    );
    assert.ok(relayed);
    const copy = summaries.find((message) => message.forwardedFrom === relayed.queueId);
    assert.ok(copy, "no summary continues the hand-off to the downstream MTA");
    assert.equal(copy.saslUsername, ALICE, "the downstream copy inherits its submitter");
    assert.deepEqual(
      copy.recipients.map((r) => r.to),
      ["a@remote.test"],
    );
    const bounce = summaries.find((message) => message.bounceOf === relayed.queueId);
    assert.equal(bounce?.queueId, relayed.bounceQueueIds[0]);
    assert.equal(bounce?.from, "");
  });
});
