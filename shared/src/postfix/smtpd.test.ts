import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { parsePostfix } from "./parse.js";
import { record } from "./testing.js";

/** The disconnect counters as first written, by regex: the hand-written reader must agree. */
const COUNTER = /^([a-z][a-z-]{0,31})=(\d{1,9})(?:\/(\d{1,9}))?$/;

function referenceCounters(words: string): Record<string, { ok: number; total: number }> {
  const commands: Record<string, { ok: number; total: number }> = {};
  for (const token of words.split(" ")) {
    const counter = COUNTER.exec(token);
    if (counter === null) continue;
    const ok = Number(counter[2]);
    commands[counter[1] as string] = { ok, total: counter[3] === undefined ? ok : Number(counter[3]) };
  }
  return commands;
}

const names = fc.oneof(
  fc.constantFrom(
    "ehlo",
    "helo",
    "mail",
    "rcpt",
    "data",
    "bdat",
    "quit",
    "auth",
    "starttls",
    "commands",
    "unknown",
  ),
  fc.stringMatching(/^[a-zA-Z_-]{0,35}$/),
);
const counts = fc.oneof(
  fc.stringMatching(/^[0-9]{0,11}$/),
  fc.constantFrom("0", "1", "123456789", "1234567890"),
);
const words = fc
  .array(
    fc.oneof(
      fc
        .tuple(names, counts, fc.option(counts))
        .map(([n, a, b]) => (b === null ? `${n}=${a}` : `${n}=${a}/${b}`)),
      fc.constantFrom("", "=", "a=", "a=1/", "a==1", "x=1/2/3", "é=1"),
    ),
    { maxLength: 8 },
  )
  .map((parts) => parts.join(" "));

test("disconnect counters are read as the regex reads them", () => {
  fc.assert(
    fc.property(words, fc.constantFrom(" ", ""), (text, lead) => {
      const line = `disconnect from mail.example[192.0.2.1]${lead}${text}`;
      const event = parsePostfix(record("postfix/smtpd", line));
      if (event?.kind !== "disconnect") return;
      const rest = line.slice(line.indexOf("]") + 1);
      assert.deepEqual(event.commands, referenceCounters(rest), line);
    }),
    { numRuns: 20_000 },
  );
});

test("a SASL user name with line breaks or control characters stays one visible, escaped failure", () => {
  const failure = (user: string) =>
    parsePostfix(
      record(
        "postfix/submission/smtpd",
        `warning: unknown[192.0.2.7]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=${user}`,
      ),
    );
  for (const [user, shown] of [
    ["eve\nFAKE ALERT resolved", "eve\\x0aFAKE ALERT resolved"],
    ["eve\r\nx", "eve\\x0d\\x0ax"],
    ["eve\u2028x", "eve\\u2028x"],
    ["eve\u2029x", "eve\\u2029x"],
    ["eve\u0085x", "eve\\x85x"],
    ["eve\u001b[31mred", "eve\\x1b[31mred"],
    ["eve\u0007\u0000", "eve\\x07\\x00"],
    ["admin\u202egnp.exe", "admin\\u202egnp.exe"],
    ["plain@example.org", "plain@example.org"],
  ]) {
    const event = failure(user as string);
    assert.equal(event?.kind, "sasl_auth_failed", JSON.stringify(user));
    assert.equal(event?.kind === "sasl_auth_failed" && event.saslUsername, shown, JSON.stringify(user));
  }
  const login = parsePostfix(
    record(
      "postfix/smtpd",
      "4B1C31D6FA: client=unknown[192.0.2.7], sasl_method=PLAIN, sasl_username=eve\u2028x",
    ),
  );
  assert.equal(login?.kind === "client" && login.saslUsername, "eve\\u2028x");
});
