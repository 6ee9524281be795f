import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { PostfixEvent } from "../contracts/events.js";
import { parseSyslogLine } from "../syslog/parse.js";
import { parsePostfix } from "./parse.js";

const FIXTURES = new URL("../../../../test/fixtures/", import.meta.url);
const REFERENCE_TIME = Date.UTC(2026, 10, 4);

function parseLine(line: string): PostfixEvent | null {
  const record = parseSyslogLine(line, { referenceTime: REFERENCE_TIME });
  assert.ok(record, `no syslog header: ${line}`);
  return parsePostfix(record);
}

function lines(file: string): string[] {
  return readFileSync(new URL(file, FIXTURES), "utf8")
    .split("\n")
    .filter((line) => line !== "");
}

test("every corpus line parses to the kind its group expects, and validates", () => {
  let expected = "";
  let total = 0;
  let known = 0;
  for (const line of lines("postfix-corpus.log")) {
    const header = /^# expect: (\S+)$/.exec(line);
    if (header !== null) expected = header[1] as string;
    if (line.startsWith("#")) continue;
    const event = parseLine(line);
    assert.equal(event?.kind ?? "null", expected, line);
    if (event === null) continue;
    PostfixEvent.parse(event);
    total++;
    if (event.kind !== "unparsed") known++;
  }
  console.log(`postfix-corpus.log: ${known}/${total} Postfix lines parse to a known kind`);
  // The one deliberately unparseable line.
  assert.equal(known, total - 1);
});

/**
 * Shapes that public Postfix parsers' test data (../shared/corpora/external) showed postwatch
 * missing, written here from Postfix's documented formats: each corpus line holding the key, and
 * the fields its event must carry.
 */
const SHAPE_FIELDS: readonly [string, Record<string, unknown>][] = [
  ["to=nosuch@localhost, ", { kind: "delivery", to: "nosuch@localhost", status: "bounced", dsn: "5.1.1" }],
  ["to=alice@mx1.example.org, ", { kind: "delivery", to: "alice@mx1.example.org", origTo: "root@localhost" }],
  [
    "from=alice@mx1.example.org, size=270",
    { kind: "queued", queueId: "1E2F3A4B5C", from: "alice@mx1.example.org" },
  ],
  [
    "prepend: header Received",
    { kind: "reject", action: "prepend", queueId: "5C6D7E8F9A", to: "c@example.org" },
  ],
  [
    "milter-header-redirect: ",
    {
      kind: "reject",
      action: "milter-header-redirect",
      client: { host: "mail.example.net", ip: "198.51.100.13" },
    },
  ],
  ["from local; ", { kind: "reject", action: "info", from: "root@mx1.example.org", client: undefined }],
  [
    "proxy-accept: ",
    { kind: "reject", action: "proxy-accept", stage: "END-OF-MESSAGE", smtpCode: 250, dsn: "2.0.0" },
  ],
  ["undeliverable address: verification failed", { kind: "reject", category: "unknown_recipient" }],
  [
    "resent-message-id=",
    { kind: "message_id", resent: true, messageId: "20261103140310.2B3C@mx1.example.org" },
  ],
  ["COMMAND TIME LIMIT from [192.0.2.40]", { kind: "postscreen", stage: "RCPT" }],
  ["NON-SMTP COMMAND from [192.0.2.41]", { kind: "postscreen", stage: "CONNECT" }],
  ["(smtp:unknown)", { kind: "anvil", service: "smtp", clientIp: "unknown" }],
  ["warning: 9BECF3F19D: ", { kind: "warning", queueId: "9BECF3F19D" }],
  [
    "fatal: 2A3B4C5D6E: ",
    { kind: "fatal", queueId: "2A3B4C5D6E", text: "virtual_alias_maps map lookup problem for c@example.org" },
  ],
  ["dict_ldap_get_values[1]", { kind: "warning", client: undefined }],
  [
    "bare <LF> received",
    { kind: "warning", stage: "DATA", client: { host: "mail.example.net", ip: "198.51.100.15" } },
  ],
  ["Cannot start TLS: handshake failure", { kind: "warning", queueId: "1F2A3B4C5D" }],
  ["placed on hold", { kind: "notice", queueId: "3B4C5D6E7F" }],
  ["released from hold", { kind: "notice", queueId: "3B4C5D6E7F" }],
  ["3B4C5D6E7F: requeued", { kind: "notice", queueId: "3B4C5D6E7F" }],
  ["addr 192.0.2.52 listed by domain", { kind: "notice", client: { host: "", ip: "192.0.2.52" } }],
  [
    "enabling PIX workarounds",
    { kind: "notice", client: { host: "mx.y.example", ip: "203.0.113.5", port: 25 } },
  ],
  [
    "said: 551 virus infected",
    { kind: "delivery", replyCode: 551, stage: "end of DATA", remoteRejection: "virus" },
  ],
  ["security issue", { kind: "delivery", replyCode: 552, dsn: "5.7.0", remoteRejection: "content" }],
  ["rejected as spam", { kind: "delivery", replyCode: 550, remoteRejection: "spam" }],
  ["Access denied (in reply to RCPT TO", { kind: "delivery", stage: "RCPT TO", remoteRejection: "policy" }],
  ["blocked using zen.spamhaus.org (in reply", { kind: "delivery", remoteRejection: "reputation" }],
  ["User unknown in virtual mailbox table (in reply", { kind: "delivery", remoteRejection: "recipient" }],
  [
    "Greylisted for 300 seconds",
    { kind: "delivery", status: "deferred", replyCode: 450, remoteRejection: "policy" },
  ],
  [
    "refused to talk to me: 554",
    { kind: "delivery", replyCode: 554, stage: undefined, remoteRejection: "reputation" },
  ],
];

test("the shapes public corpora showed missing carry their fields", () => {
  const corpus = lines("postfix-corpus.log").filter((line) => !line.startsWith("#"));
  for (const [key, fields] of SHAPE_FIELDS) {
    const matching = corpus.filter((line) => line.includes(key));
    assert.equal(matching.length, 1, `one corpus line holds ${key}`);
    const event = parseLine(matching[0] as string) as unknown as Record<string, unknown>;
    const actual = Object.fromEntries(Object.keys(fields).map((field) => [field, event[field]]));
    assert.deepEqual(actual, fields, key);
  }
});

for (const file of ["seed-002-tls-debug-bruteforce.log", "seed-003-relay-abuse.log"]) {
  test(`${file}: every line parses to a known kind`, () => {
    const events = lines(file).map(parseLine);
    const unknown = events.filter((event) => event === null || event.kind === "unparsed");
    console.log(`${file}: ${events.length - unknown.length}/${events.length} lines parse to a known kind`);
    assert.deepEqual(unknown, []);
    for (const event of events) PostfixEvent.parse(event);
  });
}

test("seed 002: the brute-force session yields its client, the tried user and the failure", () => {
  const events = lines("seed-002-tls-debug-bruteforce.log").map(parseLine);
  const kinds = events.map((event) => event?.kind);
  assert.equal(kinds.filter((kind) => kind === "debug").length, 38);
  const failure = events.find((event) => event?.kind === "sasl_auth_failed");
  assert.deepEqual(
    failure && { mechanism: failure.mechanism, reason: failure.reason, client: failure.client },
    {
      mechanism: "PLAIN",
      reason: "",
      client: { host: "unknown", ip: "176.103.49.30" },
    },
  );
  const auth = events.find((event) => event?.kind === "debug" && event.authUsername !== undefined);
  assert.equal(auth?.kind === "debug" && auth.authUsername, "admin@fipick.com");
  const json = JSON.stringify(events);
  assert.ok(!json.includes("AGFkbWluQGZpcGljay5jb20Ad2lsb"));
  assert.ok(!json.includes("\\u0000wil"));
});

test("seed 003: the relay-abuse story links queue IDs through bounces", () => {
  const events = lines("seed-003-relay-abuse.log").map(parseLine);
  const count = (kind: string) => events.filter((event) => event?.kind === kind).length;
  assert.deepEqual(
    ["queued", "bounce_notice", "removed", "delivery", "message_id"].map(count),
    [2, 3, 6, 5, 2],
  );
  const google = events.find((event) => event?.kind === "delivery" && event.queueId === "65E4C1D95F");
  assert.ok(google?.kind === "delivery");
  assert.equal(google.status, "bounced");
  assert.ok(google.response.endsWith("z63si3810735ybh.300 - gsmtp (in reply to end of DATA command)"));
});
