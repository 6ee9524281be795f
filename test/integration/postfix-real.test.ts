/**
 * postwatch against a real Postfix (Debian's 3.7, test/helpers/postfix.ts) driven by swaks: the log
 * lines are Postfix's own, not the corpus's reconstruction of them. The scenario is the seeds' in
 * miniature: inbound mail, a rejected recipient, a relay probe, SASL guesses (seed 002, once with
 * the debug output the seed's admin had on), a lost connection, and an authenticated account
 * relaying to several recipients, one of which the remote side rejects as virus-infected and one of
 * which is deferred (seed 003). Needs root, postfix, swaks and sasl2-bin (bash .ci/run installs them).
 */
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { forEachEvent, newInputStats } from "../../services/cli/src/input.js";
import { replay } from "../../services/cli/src/offline.js";
import { type EventOf, PostfixEvent } from "../../shared/src/contracts/events.js";
import { Correlator } from "../../shared/src/postfix/correlate.js";
import { buildReport, localAccount } from "../../shared/src/report/report.js";
import { traceQueueId } from "../../shared/src/report/trace.js";
import { type PostfixServer, sendRaw, smtpTalk, startPostfix, swaks } from "../helpers/postfix.js";
import { postwatchEvents } from "../parity/parity-log.js";
import { fail2banSaslFailuresByIp, runPflogsumm, SAME_DEFINITION } from "../parity/peers.js";

const ALICE = "alice@example.org";
const BOB = "bob@example.org";
const WEBAPP = "wordpress@example.org";
const ALICE_PASSWORD = "S3cret-alice-7f2c";
const GUESSES = ["Winter2026!", "Password1", "letmein-42"];
const DEBUG_GUESS = "Hunter2-debug-guess";
const IPV6_GUESS = "Ipv6-guess-0x1";
/** Sent by the hostile clients: in clear (AUTH LOGIN under smtpd -v) and pipelined (as base64). */
const VERBOSE_LOGIN_PASSWORD = "Sekrit-LOGIN-pw";
const PIPELINED_LOGIN_PASSWORD = "pipelined-pw-9";
const b64 = (text: string) => Buffer.from(text).toString("base64");
const run = promisify(execFile);
const VIRUS_REPLY = "551 5.7.1 virus infected";

type Message = EventOf<"message">;

describe("a real Postfix's log", () => {
  let postfix: PostfixServer;
  let events: PostfixEvent[];
  let summaries: Message[];
  let stats: ReturnType<typeof newInputStats>;
  let rawLog: string;

  before(async () => {
    postfix = await startPostfix({
      users: { [ALICE]: ALICE_PASSWORD },
      rejectRecipients: { "virus@remote.test": VIRUS_REPLY },
    });
    const { smtp, postscreen, submission, debug } = postfix.ports;
    const at = (port: number) => ["--server", "127.0.0.1", "--port", String(port)];
    await swaks([...at(smtp), "--ehlo", "client.example.net", "-f", "sender@example.net", "-t", ALICE]);
    await swaks([
      ...at(smtp),
      "--ehlo",
      "client.example.net",
      "-f",
      "sender@example.net",
      "-t",
      "nosuch@example.org",
    ]);
    await swaks([
      ...at(smtp),
      "--ehlo",
      "probe.example.net",
      "-f",
      "spam@example.net",
      "-t",
      "victim@elsewhere.test",
    ]);
    await swaks([
      ...at(smtp),
      "--ehlo",
      "client.example.net",
      "-f",
      "winner@example.net",
      "-t",
      BOB,
      "--header",
      "Subject: You won the lottery",
    ]);
    await swaks([...at(smtp), "--ehlo", "evil.example.net", "-f", "evil@example.net", "-t", BOB]);
    await swaks([
      ...at(smtp),
      "--ehlo",
      "harvester.example.net",
      "-f",
      "h@example.net",
      "-t",
      "u1@example.org,u2@example.org,u3@example.org",
    ]);
    for (const guess of GUESSES) {
      await swaks([
        ...at(submission),
        "--ehlo",
        "bot.example.net",
        "--auth",
        "PLAIN",
        "--auth-user",
        ALICE,
        "--auth-password",
        guess,
        "--quit-after",
        "AUTH",
      ]);
    }
    await swaks([
      ...at(submission),
      "--ehlo",
      "bot.example.net",
      "--auth",
      "LOGIN",
      "--auth-user",
      "admin",
      "--auth-password",
      "admin",
      "--quit-after",
      "AUTH",
    ]);
    await swaks([
      ...at(debug),
      "--tls",
      "--ehlo",
      "bot.example.net",
      "--auth",
      "PLAIN",
      "--auth-user",
      ALICE,
      "--auth-password",
      DEBUG_GUESS,
      "--quit-after",
      "AUTH",
    ]);
    await smtpTalk(smtp, { commands: ["EHLO dropper.example.net"], quit: false });
    await smtpTalk(postfix.ports.submission6, {
      address: "::1",
      commands: [
        "EHLO bot6.example.net",
        `AUTH PLAIN ${Buffer.from(`\0${ALICE}\0${IPV6_GUESS}`).toString("base64")}`,
      ],
      quit: true,
    });
    await smtpTalk(postscreen, {
      pregreet: "EHLO pregreet.example.net",
      commands: ["EHLO pregreet.example.net", "MAIL FROM:<bot@example.net>", `RCPT TO:<${BOB}>`],
      quit: true,
    });
    await swaks([...at(postscreen), "--ehlo", "patient.example.net", "-f", "friend@example.net", "-t", BOB]);
    await swaks([
      ...at(submission),
      ...[
        "--tls",
        "--ehlo",
        "laptop.example.org",
        "--auth",
        "PLAIN",
        "--auth-user",
        ALICE,
        "--auth-password",
        ALICE_PASSWORD,
      ],
      ...["-f", ALICE, "-t", "a@remote.test,virus@remote.test,c@deferred.test"],
    ]);
    // Hostile clients, as bots behave: HTTP at an MX, a LOGIN exchange sent ahead of the replies,
    // a TLS hello after STARTTLS that is not one, a malformed address, a message over the size limit,
    // and a header line longer than SMTP allows (the smtp client folds it on the way downstream).
    await sendRaw(smtp, "GET / HTTP/1.1\r\nHost: mx\r\n\r\n");
    await sendRaw(
      submission,
      `EHLO bot.example.net\r\nAUTH PLAIN !!!\r\nAUTH LOGIN\r\n${b64("admin")}\r\n${b64(PIPELINED_LOGIN_PASSWORD)}\r\nAUTH CRAM-MD5\r\n*\r\nQUIT\r\n`,
    );
    await sendRaw(smtp, "EHLO bot.example.net\r\nSTARTTLS\r\n\x16\x03\x01not-a-client-hello\r\n");
    await sendRaw(
      smtp,
      "EHLO bot.example.net\r\nMAIL FROM:<bad address>\r\nMAIL FROM:<a@example.net> SIZE=999999999\r\nQUIT\r\n",
    );
    await swaks([
      ...at(smtp),
      "-f",
      "long@example.net",
      "-t",
      BOB,
      "--header",
      `X-Long: ${"y".repeat(1200)}`,
    ]);
    // A web application's mail() as root runs it: sendmail, postdrop, pickup (`uid=0`).
    execFileSync(
      "/usr/sbin/sendmail",
      ["-C", postfix.configDir, "-f", WEBAPP, "victim1@remote.test", "victim2@remote.test"],
      {
        input: "Subject: Cheap pills\n\nBuy now.\n",
      },
    );
    // The services mail depends on, down: a policy server and a milter.
    await swaks([...at(postfix.ports.brokenPolicy), "-f", "x@example.net", "-t", BOB]);
    await swaks([...at(postfix.ports.brokenMilter), "-f", "x@example.net", "-t", BOB]);
    await swaks([
      ...at(debug),
      "--tls",
      "--auth",
      "LOGIN",
      "--auth-user",
      BOB,
      "--auth-password",
      VERBOSE_LOGIN_PASSWORD,
      "--quit-after",
      "AUTH",
    ]);
    await postfix.waitForLog(
      (log) =>
        everyStoryEnded(log) &&
        log.includes("sender non-delivery notification") &&
        log.includes("statistics: max"),
    );
    // The admin's remedy in seed 003: purge what the account left in the queue.
    await run("postsuper", ["-c", postfix.configDir, "-d", "ALL", "deferred"]);
    rawLog = await postfix.waitForLog((log) => /postsuper\[\d+\]: Deleted: 1 message/.test(log));

    stats = newInputStats();
    events = [];
    summaries = [];
    const correlator = new Correlator();
    const keep = (output: readonly PostfixEvent[]) => {
      for (const event of output) if (event.kind === "message") summaries.push(event);
    };
    await forEachEvent([postfix.maillog], stats, (event, atMs) => {
      events.push(event);
      keep(correlator.push(event, atMs));
    });
    keep(correlator.sweep(Number.POSITIVE_INFINITY));
  });

  after(() => postfix?.stop());

  test("every line parses to a known kind and validates against the event contract", (t) => {
    t.diagnostic(`${stats.lines} lines: ${JSON.stringify(stats.byKind)}`);
    assert.equal(stats.badHeader, 0);
    assert.equal(stats.notPostfix, 0);
    assert.deepEqual(
      events.filter((event) => event.kind === "unparsed"),
      [],
    );
    for (const event of events) PostfixEvent.parse(event);
    for (const kind of ["connect", "disconnect", "client", "message_id", "queued", "delivery", "removed"]) {
      assert.ok(stats.byKind[kind], `no ${kind} event`);
    }
    for (const kind of [
      "reject",
      "sasl_auth_failed",
      "tls",
      "bounce_notice",
      "lost_connection",
      "debug",
      "postscreen",
      "anvil",
    ]) {
      assert.ok(stats.byKind[kind], `no ${kind} event`);
    }
  });

  test("the recipient, HELO and relay rejects carry their category, addresses and HELO", () => {
    const rejects = events.filter((event): event is EventOf<"reject"> => event.kind === "reject");
    const byTo = new Map(rejects.map((reject) => [reject.to, reject]));
    assert.deepEqual(pick(rejects.find((reject) => reject.helo === "evil.example.net")), {
      category: "helo",
      smtpCode: 554,
      dsn: "5.7.1",
      from: "evil@example.net",
      helo: "evil.example.net",
      stage: "RCPT",
    });
    assert.deepEqual(pick(byTo.get("nosuch@example.org")), {
      category: "unknown_recipient",
      smtpCode: 550,
      dsn: "5.1.1",
      from: "sender@example.net",
      helo: "client.example.net",
      stage: "RCPT",
    });
    assert.deepEqual(pick(byTo.get("victim@elsewhere.test")), {
      category: "relay_denied",
      smtpCode: 554,
      dsn: "5.7.1",
      from: "spam@example.net",
      helo: "probe.example.net",
      stage: "RCPT",
    });
  });

  test("postscreen: a client that talks first is PREGREET and rejected at RCPT, a patient one passes", () => {
    const verdicts = events.flatMap((event) => (event.kind === "postscreen" ? [event.action] : []));
    assert.ok(verdicts.includes("PREGREET"), `verdicts: ${verdicts.join(", ")}`);
    assert.ok(verdicts.includes("PASS NEW"), `verdicts: ${verdicts.join(", ")}`);
    const protocolError = events.find(
      (event) => event.kind === "reject" && event.program === "postfix/postscreen",
    );
    assert.ok(protocolError?.kind === "reject");
    assert.deepEqual(
      [
        protocolError.smtpCode,
        protocolError.dsn,
        protocolError.to,
        protocolError.helo,
        protocolError.client?.ip,
      ],
      [550, "5.5.1", BOB, "pregreet.example.net", "127.0.0.1"],
    );
  });

  test("a header_checks REJECT in cleanup ends its message's story at once", () => {
    const reject = events.find((event) => event.kind === "reject" && event.daemon === "cleanup");
    assert.ok(reject?.kind === "reject" && reject.queueId !== undefined);
    assert.equal(reject.from, "winner@example.net");
    const summary = summaries.find((message) => message.queueId === reject.queueId);
    assert.equal(summary?.end, "removed", "the rejected message must not wait for the end of the log");
  });

  test("anvil's statistics name the client, whatever the master.cf service is called", () => {
    const anvil = events.filter((event): event is EventOf<"anvil"> => event.kind === "anvil");
    const perClient = anvil.filter((event) => event.statistic !== "max cache size");
    assert.ok(perClient.some((event) => event.statistic === "max connection rate"));
    // `127.0.0.1:<port>` entries (the listeners here, a content filter's re-injection port in the
    // wild) are services with colons in their name; postscreen hands over to the `smtpd` service.
    const clients = new Set(perClient.map((event) => event.clientIp));
    assert.ok(
      clients.has("127.0.0.1") && [...clients].every((ip) => ip === "127.0.0.1" || ip === "::1"),
      [...clients].join(", "),
    );
    assert.ok(perClient.some((event) => event.service === `127.0.0.1:${postfix.ports.smtp}`));
  });

  test("clients cut off at their second error are too_many_errors at that stage", () => {
    const cutOff = events.filter((event) => event.kind === "too_many_errors");
    assert.deepEqual(
      cutOff.map((event) => event.kind === "too_many_errors" && [event.stage, event.client.ip]),
      // The harvester's second unknown recipient; the hostile client's malformed, then oversized, MAIL.
      [
        ["RCPT", "127.0.0.1"],
        ["MAIL", "127.0.0.1"],
      ],
    );
  });

  test("a client that drops the connection is a lost connection at the stage it reached", () => {
    const lost = events.filter(
      (event): event is EventOf<"lost_connection"> => event.kind === "lost_connection",
    );
    // The others are the helper's readiness probes, dropped right after connecting.
    assert.deepEqual(
      lost.map((event) => event.stage).filter((stage) => stage !== "CONNECT"),
      // The dropper after EHLO; the fake TLS hello after STARTTLS.
      ["EHLO", "STARTTLS"],
    );
  });

  test("hostile clients' traces are warnings that name the client", () => {
    const warnings = events.filter((event): event is EventOf<"warning"> => event.kind === "warning");
    for (const start of [
      "non-SMTP command from ",
      "improper command pipelining after ",
      "SSL_accept error from ",
      "Illegal address syntax from ",
    ]) {
      const found = warnings.filter((warning) => warning.text.startsWith(start));
      assert.ok(found.length > 0, `no "${start}" warning`);
      for (const warning of found) assert.equal(warning.client?.ip, "127.0.0.1", warning.text);
    }
    const oversized = events.find(
      (event) => event.kind === "reject" && event.reason === "Message size exceeds fixed limit",
    );
    assert.ok(oversized?.kind === "reject" && oversized.stage === "MAIL" && oversized.dsn === "5.3.4");
  });

  test("each SASL guess is one failure naming the client, mechanism, reason and user", () => {
    const failures = events.filter(
      (event): event is EventOf<"sasl_auth_failed"> => event.kind === "sasl_auth_failed",
    );
    assert.deepEqual(
      failures.map((f) => [f.service ?? "", f.client.ip, f.mechanism, f.reason, f.saslUsername]),
      [
        ...GUESSES.map(() => ["submission", "127.0.0.1", "PLAIN", "authentication failure", ALICE]),
        ["submission", "127.0.0.1", "LOGIN", "authentication failure", "admin"],
        ["submission-debug", "127.0.0.1", "PLAIN", "authentication failure", ALICE],
        ["submission", "::1", "PLAIN", "authentication failure", ALICE],
        // The pipelined exchanges: the PLAIN cut short by its `!!!` and the CRAM-MD5 name no user.
        ["submission", "127.0.0.1", "PLAIN", "another step is needed in authentication", undefined],
        ["submission", "127.0.0.1", "LOGIN", "authentication failure", "admin"],
        ["submission", "127.0.0.1", "CRAM-MD5", "no mechanism available", undefined],
        ["submission-debug", "127.0.0.1", "LOGIN", "authentication failure", BOB],
      ],
    );
  });

  test("the AUTH payload in the debug output names the user, and no password leaves the parser", () => {
    const payload = Buffer.from(`\0${ALICE}\0${DEBUG_GUESS}`).toString("base64");
    assert.ok(rawLog.includes(payload), "the debug listener should have logged the AUTH PLAIN payload");
    const auth = events.find((event) => event.kind === "debug" && event.authUsername !== undefined);
    assert.equal(auth?.kind === "debug" && auth.authUsername, ALICE);
    assert.equal(auth?.kind === "debug" && auth.client?.ip, "127.0.0.1");
    const json = JSON.stringify([...events, ...summaries]);
    assert.ok(
      rawLog.includes(`decoded response: ${VERBOSE_LOGIN_PASSWORD}`),
      "smtpd -v should have logged it in clear",
    );
    assert.ok(rawLog.includes(b64(PIPELINED_LOGIN_PASSWORD)), "the pipelining warning should have logged it");
    const pipelined = [b64(PIPELINED_LOGIN_PASSWORD), b64("admin")];
    for (const secret of [
      payload,
      DEBUG_GUESS,
      IPV6_GUESS,
      ALICE_PASSWORD,
      VERBOSE_LOGIN_PASSWORD,
      ...pipelined,
      ...GUESSES,
    ]) {
      assert.ok(!json.includes(secret), `${secret} left the parser`);
    }
  });

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

/**
 * Whether every message qmgr took, and every one a relay reply says was queued downstream, has been
 * removed (or deferred, which keeps it queued): the stories above have all reached their last line.
 */
function everyStoryEnded(log: string, { deferral } = { deferral: true }): boolean {
  const ids = (pattern: RegExp) => new Set([...log.matchAll(pattern)].map((match) => match[1] as string));
  const ended = new Set([
    ...ids(/ ([0-9A-F]{6,}): removed$/gm),
    ...ids(/ ([0-9A-F]{6,}): to=<[^\n]*status=deferred/g),
  ]);
  const started = [...ids(/ ([0-9A-F]{6,}): from=<[^\n]*nrcpt=/g), ...ids(/queued as ([0-9A-F]{6,})\)/g)];
  return (
    (!deferral || log.includes("status=deferred")) &&
    started.length > 0 &&
    started.every((id) => ended.has(id))
  );
}

function pick(reject: EventOf<"reject"> | undefined) {
  if (reject === undefined) return undefined;
  const { category, smtpCode, dsn, from, helo, stage } = reject;
  return { category, smtpCode, dsn, from, helo, stage };
}

describe("a real Postfix's log with -v on smtpd, cleanup, qmgr and smtp", () => {
  const PASSWORD = "S3cret-verbose-pw";
  const WRONG = "Wrong-verbose-pw";
  let postfix: PostfixServer;
  let events: PostfixEvent[];
  let summaries: Message[];
  let stats: ReturnType<typeof newInputStats>;

  before(async () => {
    postfix = await startPostfix({ users: { [ALICE]: PASSWORD }, verbose: true });
    const at = ["--server", "127.0.0.1", "--port", String(postfix.ports.submission)];
    await swaks([
      ...at,
      "--tls",
      "--auth",
      "PLAIN",
      "--auth-user",
      ALICE,
      "--auth-password",
      PASSWORD,
      "-f",
      ALICE,
      "-t",
      "a@remote.test",
    ]);
    await swaks([
      ...at,
      "--auth",
      "LOGIN",
      "--auth-user",
      ALICE,
      "--auth-password",
      WRONG,
      "--quit-after",
      "AUTH",
    ]);
    await postfix.waitForLog(
      (log) => everyStoryEnded(log, { deferral: false }) && log.includes("authentication failed"),
    );
    stats = newInputStats();
    events = [];
    await forEachEvent([postfix.maillog], stats, (event) => events.push(event));
    const correlator = new Correlator();
    const outputs = [
      ...events.flatMap((event) => correlator.push(event)),
      ...correlator.sweep(Number.POSITIVE_INFINITY),
    ];
    summaries = outputs.filter((out): out is Message => out.kind === "message");
  });

  after(() => postfix?.stop());

  test("the tracing is debug events, and neither password leaves the parser", (t) => {
    const unparsed = stats.byKind.unparsed ?? 0;
    t.diagnostic(
      `${stats.lines} lines: ${stats.byKind.debug} debug, ${unparsed} unparsed (rarer -v shapes, counted)`,
    );
    assert.equal(stats.badHeader, 0);
    assert.ok((stats.byKind.debug ?? 0) > stats.lines / 2, "most of a -v log is tracing");
    assert.ok(
      postfix.log().includes(`decoded response: ${WRONG}`),
      "smtpd -v logged the LOGIN password in clear",
    );
    const json = JSON.stringify(events);
    for (const secret of [PASSWORD, WRONG, b64(`\0${ALICE}\0${PASSWORD}`), b64(WRONG)]) {
      assert.ok(!json.includes(secret), `${secret} left the parser`);
    }
  });

  test("the message's story is correlated through the noise", () => {
    const relayed = summaries.find(
      (message) => message.saslUsername === ALICE && message.forwardedFrom === undefined,
    );
    assert.deepEqual(
      relayed?.recipients.map((r) => [r.to, r.status]),
      [["a@remote.test", "sent"]],
    );
    const failure = events.find((event) => event.kind === "sasl_auth_failed");
    assert.ok(
      failure?.kind === "sasl_auth_failed" && failure.mechanism === "LOGIN" && failure.saslUsername === ALICE,
    );
  });
});
