/**
 * A real Postfix's lines, one by one (the scenario: postfix-scenario.ts): every line is a known kind
 * of event, and each carries what the line says, and no secret.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type EventOf, PostfixEvent } from "../../shared/src/contracts/events.js";
import { RECIPIENT_ACTIONS } from "../helpers/postfix.js";
import {
  ALICE,
  ALICE_PASSWORD,
  BOB,
  b64,
  DEBUG_GUESS,
  GUESSES,
  IPV6_GUESS,
  PIPELINED_LOGIN_PASSWORD,
  runScenario,
  type ScenarioRun,
  VERBOSE_LOGIN_PASSWORD,
} from "./postfix-scenario.js";

describe("a real Postfix's log, line by line", () => {
  let scenario: ScenarioRun;
  let postfix: ScenarioRun["postfix"];
  let events: ScenarioRun["events"];
  let summaries: ScenarioRun["summaries"];
  let stats: ScenarioRun["stats"];
  let rawLog: string;

  before(async () => {
    scenario = await runScenario();
    ({ postfix, events, summaries, stats, rawLog } = scenario);
  });

  after(() => scenario?.postfix.stop());

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

  test("access-map HOLD, DISCARD, WARN and INFO are each a reject event with that action", () => {
    const actions = events.flatMap((event) =>
      event.kind === "reject" && event.to?.endsWith("@example.org") && event.to.split("@")[0] === event.action
        ? [event.action]
        : [],
    );
    assert.deepEqual(actions.sort(), [...RECIPIENT_ACTIONS].sort());
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
});

function pick(reject: EventOf<"reject"> | undefined) {
  if (reject === undefined) return undefined;
  const { category, smtpCode, dsn, from, helo, stage } = reject;
  return { category, smtpCode, dsn, from, helo, stage };
}
