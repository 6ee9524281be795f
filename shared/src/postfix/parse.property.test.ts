import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { PostfixEvent } from "../contracts/events.js";
import { parsePostfix } from "./parse.js";
import { record } from "./testing.js";

const programs = fc.oneof(
  fc.constantFrom(
    "postfix",
    "postfix/smtpd",
    "postfix/submission/smtpd",
    "postfix-out/smtp",
    "postfix/postscreen",
    "postfix/qmgr",
    "postfix/cleanup",
    "postfix/anvil",
  ),
  fc.stringMatching(/^postfix(-[a-z.]{1,8})?(\/[a-z0-9-]{0,10}){0,3}$/),
);

/** Pieces of real shapes, so random messages reach deep into the parsers, not just the fallback. */
const fragments = fc.constantFrom(
  "connect from ",
  "disconnect from ",
  "lost connection after ",
  "DATA (12 bytes) ",
  "from ",
  "unknown[",
  "192.0.2.1",
  "2001:db8::1",
  "]",
  "]:",
  "25",
  ": ",
  ", ",
  "; ",
  " ",
  "=",
  "<",
  ">",
  "(",
  ")",
  "warning: ",
  "NOQUEUE: ",
  "4B1C31D6FA: ",
  "4Jq8Zs0YtzzB1D: ",
  "reject: ",
  "milter-reject: ",
  "RCPT ",
  "header ",
  "554 5.7.1 ",
  "from=<",
  " to=<",
  "proto=ESMTP",
  "helo=<",
  "SASL LOGIN authentication failed",
  "UGFzc3dvcmQ6",
  ", sasl_username=",
  "client=",
  "sasl_method=",
  "to=<",
  "relay=",
  "delay=",
  "delays=",
  "1/2/3/4",
  "dsn=",
  "status=",
  "sent",
  "size=",
  "nrcpt=",
  "uid=",
  "message-id=",
  "statistics: max connection rate ",
  "3/60s",
  "for (smtp:",
  "Anonymous TLS connection established ",
  "TLSv1.3 with cipher X ",
  "(256/256 bits)",
  "PASS NEW ",
  "DNSBL rank ",
  "[",
  "Read 4 chars: ",
  "AUTH PLAIN ",
  "AHVzZXIAcGFzcw==",
  "< ",
  "sender non-delivery notification: ",
  "removed",
  "\u0000",
  "é",
);

const messages = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.array(fragments, { maxLength: 24 }).map((parts) => parts.join("")),
);

describe("parsePostfix on arbitrary input", () => {
  test("never throws and always returns a schema-valid event", () => {
    fc.assert(
      fc.property(
        programs,
        messages,
        fc.double(),
        fc.option(fc.integer()),
        fc.string({ maxLength: 20 }),
        (program, message, timestamp, pid, hostname) => {
          const event = parsePostfix(record(program, message, { timestamp, pid, hostname }));
          assert.ok(event !== null, program);
          PostfixEvent.parse(event);
        },
      ),
      { numRuns: 5000 },
    );
  });
});

/**
 * Catastrophic backtracking on a 64 KiB line costs seconds of CPU (quadratic: ~2·10⁹ steps); a linear
 * parse costs a few milliseconds. The budget sits far between the two and is counted in this
 * process's CPU time, which a loaded machine does not inflate as it does wall-clock time.
 */
describe("hostile 64 KiB lines parse in linear time", () => {
  const SIZE = 64 * 1024;
  const fill = (unit: string) => unit.repeat(Math.ceil(SIZE / unit.length)).slice(0, SIZE);
  const bodies: Record<string, string> = {
    brackets: fill("["),
    closers: fill("]"),
    spaces: fill(" "),
    pairs: fill("a=b, "),
    unknowns: fill("unknown["),
    angles: fill("<>"),
    semicolons: fill("; from=<"),
    colons: fill(": "),
    words: fill("A "),
    base64: fill("QUFB"),
    digits: fill("1"),
    alnum: fill("z9"),
    nested: `${fill("unknown[1.2.3.4")}]`,
    auth: fill("AUTH PLAIN "),
    chevrons: fill("> a["),
    base64Tail: `${fill("QUFB")} x`,
    queueIds: fill("4B1C31D6FA: "),
  };
  const prefixes = [
    "",
    "warning: ",
    "warning: unknown[192.0.2.1]: SASL LOGIN authentication failed: ",
    "NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 ",
    "4B1C31D6FA: reject: header Subject: ",
    "connect from ",
    "disconnect from unknown[192.0.2.1] ",
    "lost connection after ",
    "4B1C31D6FA: client=unknown[192.0.2.1]",
    "4B1C31D6FA: to=<",
    "4B1C31D6FA: to=<a>, relay=",
    "4B1C31D6FA: from=<",
    "statistics: max ",
    "Anonymous TLS connection established from ",
    "PASS NEW ",
    "Read 9 chars: ",
    "< unknown[192.0.2.1]: AUTH PLAIN ",
    "< ",
    "host ",
    "milter-header-redirect: header ",
    "bare <LF> received after ",
    "warning: 4B1C31D6FA: ",
    "addr ",
  ];
  const CPU_BUDGET_MS = 250;
  const cpuMs = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };

  for (const [name, hostile] of Object.entries(bodies)) {
    test(`${name}, behind every prefix, stays under ${CPU_BUDGET_MS} ms of CPU`, () => {
      for (const prefix of prefixes) {
        const input = record("postfix/smtpd", prefix + hostile);
        parsePostfix(input);
        const start = cpuMs();
        const event = parsePostfix(input);
        const spent = cpuMs() - start;
        assert.ok(event !== null);
        assert.ok(
          spent < CPU_BUDGET_MS,
          `${JSON.stringify(prefix)} + ${name}: ${spent.toFixed(1)} ms of CPU`,
        );
      }
    });
  }
});
