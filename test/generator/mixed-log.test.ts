import assert from "node:assert/strict";
import { test } from "node:test";
import type { PostfixEvent } from "../../shared/src/contracts/events.js";
import { lineToEvent } from "../../shared/src/pipeline/lines.js";
import { buildReport } from "../../shared/src/report/report.js";
import { DEFAULT_START_MS, GROUND_TRUTH, generateMixedLog, type MixedLogOptions } from "./mixed-log.js";

const generate = (options: MixedLogOptions) => [...generateMixedLog(options)];

function parse(lines: readonly string[]) {
  const context = { referenceTime: DEFAULT_START_MS + 7 * 86_400_000, fallbackHost: "" };
  const events: PostfixEvent[] = [];
  const outcomes: Record<string, number> = {};
  for (const line of lines) {
    const outcome = lineToEvent(line, context);
    outcomes[outcome.type] = (outcomes[outcome.type] ?? 0) + 1;
    if (outcome.type === "event") events.push(outcome.event);
  }
  return { events, outcomes };
}

test("the same seed gives the same log, another seed another one, with exactly the lines asked for", () => {
  const first = generate({ lines: 3000, seed: 42 });
  assert.equal(first.length, 3000);
  assert.deepEqual(generate({ lines: 3000, seed: 42 }), first);
  assert.notDeepEqual(generate({ lines: 3000, seed: 43 }), first);
});

test("timestamps follow the requested format and never run backwards", () => {
  const rfc = generate({ lines: 2000, seed: 1 });
  const bsd = generate({ lines: 2000, seed: 1, format: "bsd" });
  assert.match(rfc[0] ?? "", /^2026-11-03T00:00:\d{2}\.\d{6}\+00:00 mx1 \S+: /);
  assert.match(bsd[0] ?? "", /^Nov {2}3 00:00:\d{2} mx1 \S+: /);
  // Same traffic in both formats: only the header differs.
  assert.deepEqual(
    bsd.map((line) => line.slice(16)),
    rfc.map((line) => line.slice(33)),
  );
  const times = rfc.map((line) => line.slice(0, 26));
  assert.deepEqual(times, [...times].sort());
});

test("every line has a syslog header, and every Postfix line is one postwatch understands", () => {
  const { events, outcomes } = parse(generate({ lines: 20_000, seed: 3, scenario: "compromised-account" }));
  assert.equal(outcomes.bad_header, undefined);
  assert.ok((outcomes.not_postfix ?? 0) > 0, "dovecot and opendkim lines are mixed in");
  assert.deepEqual(
    events.filter((e) => e.kind === "unparsed").map((e) => e.program),
    [],
  );
});

test("seed 003: the compromised account mails hundreds of recipients on many domains from the abuse IPs", () => {
  const { events } = parse(generate({ lines: 20_000, seed: 3, scenario: "compromised-account" }));
  const [top] = buildReport(events).senderAccounts;
  assert.equal(top?.account, GROUND_TRUTH.compromisedAccount.user);
  for (const ip of GROUND_TRUTH.compromisedAccount.abuseIps) assert.ok(top?.clientIps.includes(ip), ip);
  assert.ok((top?.recipients ?? 0) > 300 && (top?.recipientDomains ?? 0) > 100);
  const reasons = top?.rejectionReasons.map((r) => r.reason).join("\n") ?? "";
  assert.match(reasons, /551 virus infected mail rejected/);
  assert.match(reasons, /552-5\.7\.0 This message was blocked because its content presents a potential/);
});

test("baseline: SASL failures come from the brute-force addresses, legitimate users log in from their own", () => {
  const { events } = parse(generate({ lines: 20_000, seed: 5 }));
  const failingIps = new Set(events.flatMap((e) => (e.kind === "sasl_auth_failed" ? [e.client.ip] : [])));
  for (const ip of GROUND_TRUTH.bruteForceIps) assert.ok(failingIps.has(ip), ip);
  const logins = events.flatMap((e) => (e.kind === "client" && e.saslUsername ? [e] : []));
  assert.ok(logins.length > 0);
  for (const login of logins) {
    const index = GROUND_TRUTH.legitimateUsers.indexOf(login.saslUsername ?? "");
    assert.equal(login.client.ip, GROUND_TRUTH.legitimateClientIps[index], login.saslUsername);
  }
});

test("hosts: the same traffic dealt out to mx1 … mxH by story, each message's lines on one server", () => {
  const one = generate({ lines: 5000, seed: 7 });
  assert.deepEqual(generate({ lines: 5000, seed: 7, hosts: 1 }), one);
  const many = generate({ lines: 5000, seed: 7, hosts: 24 });
  const header = /^(\S+) (\S+) (.*)$/;
  const split = (line: string) => header.exec(line)?.slice(1) ?? [];
  // Only the host field differs from one server's log.
  assert.deepEqual(
    many.map((line) => [split(line)[0], split(line)[2]]),
    one.map((line) => [split(line)[0], split(line)[2]]),
  );
  const hosts = new Set(many.map((line) => split(line)[1]));
  assert.deepEqual(hosts, new Set(Array.from({ length: 24 }, (_, i) => `mx${i + 1}`)));
  const serverOfQueueId = new Map<string, string>();
  for (const line of many) {
    const [, host, rest] = split(line);
    const queueId = /^postfix\/\S+: ([0-9A-F]{10}): /.exec(rest ?? "")?.[1];
    if (queueId === undefined) continue;
    assert.equal(serverOfQueueId.get(queueId) ?? host, host, queueId);
    serverOfQueueId.set(queueId, host as string);
  }
  assert.ok(serverOfQueueId.size > 100);
  assert.throws(() => generate({ lines: 10, seed: 1, hosts: 0 }), /hosts must be a whole number/);
});
