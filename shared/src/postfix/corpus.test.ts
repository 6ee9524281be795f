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
