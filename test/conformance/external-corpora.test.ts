/**
 * Conformance with nine public Postfix parsers' test data (../shared/corpora/external, beside the
 * repository in CI): every well-formed Postfix line parses to a known kind, what the upstream calls
 * malformed does not, every endpoint is an address, and where an upstream expects a field or a
 * counter, postwatch agrees on at least 99% of them per corpus. Where postwatch is right and the
 * upstream is not, the difference is listed below with its reason, and printed.
 */
import assert from "node:assert/strict";
import { isIP } from "node:net";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Endpoint, PostfixEvent } from "../../shared/src/contracts/events.js";
import { parsePostfix } from "../../shared/src/postfix/parse.js";
import { parseSyslogLine } from "../../shared/src/syslog/parse.js";
import {
  type Case,
  CORPORA_DIR,
  type Corpus,
  corporaPresent,
  type Expected,
  loadCorpora,
} from "./corpora.js";
import { counterOf, viewOf } from "./view.js";

const REFERENCE_TIME = Date.UTC(2026, 11, 7);
const MIN_AGREEMENT = 0.99;

interface Difference {
  corpus: string;
  /** A substring of the line, or the name of the upstream test case for a counter. */
  line: string;
  /** A field (view.ts), or an upstream counter. */
  field: string;
  reason: string;
}

const DIFFERENCES: readonly Difference[] = [
  {
    corpus: "grok",
    line: "relay=sub1.example.com[private/dovecot-lmtp]",
    field: "host",
    reason:
      "the brackets hold a UNIX-domain socket, not an address: postwatch keeps it in `relay` and makes no relayEndpoint",
  },
  {
    corpus: "crowdsec",
    line: "helo=<WIN-CLJ1B0GQ6JP>",
    field: "helo",
    reason:
      "the line says helo=<WIN-CLJ1B0GQ6JP>; CrowdSec's grok takes the bracketed recipient before `: Relay access denied` as the HELO",
  },
  {
    corpus: "exporter-hsn723",
    line: "User-defined service labels",
    field: "smtpMessagesProcessed",
    reason:
      "`postfix/relay/smtp` is the smtp client under syslog_name postfix/relay: postwatch counts its delivery (service `relay`), the exporter only with that label configured",
  },
  {
    corpus: "exporter-sergeymakinen",
    line: "mail.log",
    field: 'postfix_statuses_total{status="deferred",subprogram="smtp"}',
    reason: "its two deferred lines have no `to=` (see the lines not taken for Postfix output)",
  },
  {
    corpus: "msimerson-postfix-parser",
    line: "status=sent (forwarded as ",
    field: "status",
    reason:
      "local(8) logged status=sent; msimerson-postfix-parser rewrites it to `forwarded` (postwatch keeps the NEWID as forwardedQueueId)",
  },
  {
    corpus: "msimerson-postfix-parser",
    line: "fatal: append file defer 3lyw0Z2NdSz2xGb:",
    field: "queueId",
    reason:
      "bounce names the queue ID inside the error's text (`append file <service> <id>: ...`), not where Postfix puts a line's queue ID; the text is kept whole",
  },
];

/** Lines an upstream counts as Postfix output that Postfix never writes: they must stay unparsed. */
const NOT_POSTFIX_OUTPUT: readonly Omit<Difference, "field">[] = [
  {
    corpus: "exporter-sergeymakinen",
    line: ": 123456789AB: user@example.com, relay=",
    reason:
      "a delivery line without `to=`: Postfix's delivery agents always log `to=<address>` first (log_adhoc.c); postwatch does not guess a recipient",
  },
];

function parseLine(line: string): PostfixEvent | null {
  const record = parseSyslogLine(line, { referenceTime: REFERENCE_TIME });
  return record === null ? null : parsePostfix(record);
}

const isKnown = (event: PostfixEvent | null) => event !== null && event.kind !== "unparsed";

function endpointsOf(event: PostfixEvent): Endpoint[] {
  const fields = event as unknown as Record<string, Endpoint | undefined>;
  return ["client", "peer", "relayEndpoint", "origClient"].flatMap((key) => fields[key] ?? []);
}

const isAddress = (ip: string) => ip === "unknown" || isIP(ip) !== 0;

const agrees = (expected: Expected[string], actual: unknown) =>
  Array.isArray(expected) ? expected.includes(actual as string) : actual === expected;

class Tally {
  wellFormed = 0;
  known = 0;
  fields = 0;
  fieldsAgreed = 0;
  counters = 0;
  countersAgreed = 0;
  /** Hard failures: a well-formed line of no known kind, a malformed one of a known kind, a bad endpoint. */
  readonly failures: string[] = [];
  /** Disagreements with an upstream that no listed difference explains; at most 1% may remain. */
  readonly mismatches: string[] = [];
  /** Disagreements a listed difference explains, with its reason; left out of the ratios. */
  readonly explained: string[] = [];
  readonly listedHit = new Set<object>();

  constructor(readonly corpus: string) {}

  /** Counts one comparison; a disagreement is explained by `listed` or kept as a mismatch. */
  compare(kind: "fields" | "counters", agreed: boolean, what: string, listed: Difference | undefined): void {
    if (!agreed && listed !== undefined) {
      this.listedHit.add(listed);
      this.explained.push(`${what} (because ${listed.reason})`);
      return;
    }
    if (kind === "fields") this.fields++;
    else this.counters++;
    if (!agreed) this.mismatches.push(what);
    else if (kind === "fields") this.fieldsAgreed++;
    else this.countersAgreed++;
  }

  summary(): string {
    return (
      `${this.corpus}: known kind ${this.known}/${this.wellFormed} (${percent(this.known, this.wellFormed)}), ` +
      `fields ${this.fieldsAgreed}/${this.fields} (${percent(this.fieldsAgreed, this.fields)}), ` +
      `counters ${this.countersAgreed}/${this.counters} (${percent(this.countersAgreed, this.counters)}), ` +
      `${this.explained.length} listed differences`
    );
  }
}

const percent = (part: number, whole: number) =>
  whole === 0 ? "-" : `${((100 * part) / whole).toFixed(1)}%`;

function listed<T extends Omit<Difference, "field">>(
  list: readonly T[],
  corpus: string,
  line: string,
  field?: string,
): T | undefined {
  return list.find(
    (d) =>
      d.corpus === corpus &&
      line.includes(d.line) &&
      (field === undefined || ("field" in d && d.field === field)),
  );
}

function checkLine(tally: Tally, test: Case): void {
  const event = parseLine(test.line);
  for (const endpoint of event === null ? [] : endpointsOf(event))
    if (!isAddress(endpoint.ip))
      tally.failures.push(`endpoint ip ${JSON.stringify(endpoint.ip)} in ${test.line}`);
  const notPostfix = listed(NOT_POSTFIX_OUTPUT, tally.corpus, test.line);
  if (notPostfix !== undefined) {
    tally.listedHit.add(notPostfix);
    tally.explained.push(`not Postfix output: ${test.line} (because ${notPostfix.reason})`);
  }
  if (!test.wellFormed || notPostfix !== undefined) {
    if (isKnown(event)) tally.failures.push(`malformed, yet a known kind (${event?.kind}): ${test.line}`);
    return;
  }
  tally.wellFormed++;
  if (isKnown(event)) tally.known++;
  else tally.failures.push(`${event?.kind ?? "no event"}: ${test.line}`);
  const view: Record<string, unknown> = event === null ? {} : viewOf(event);
  for (const [field, expected] of Object.entries(test.expected)) {
    const what = `${field}: upstream ${JSON.stringify(expected)}, postwatch ${JSON.stringify(view[field])} in ${test.line}`;
    tally.compare(
      "fields",
      agrees(expected, view[field]),
      what,
      listed(DIFFERENCES, tally.corpus, test.line, field),
    );
  }
}

function checkCounters(tally: Tally, corpus: Corpus): void {
  for (const { name, lines, counter, count } of corpus.counters) {
    const measure = counterOf(counter);
    if (measure === undefined) continue;
    const events = lines.map(parseLine).filter((event): event is PostfixEvent => event !== null);
    const actual = events.reduce((sum, event) => sum + measure(event), 0);
    const what = `${counter}: upstream ${count}, postwatch ${actual} in ${name}`;
    tally.compare("counters", actual === count, what, listed(DIFFERENCES, tally.corpus, name, counter));
  }
}

if (!corporaPresent()) {
  test(`external Postfix corpora: skipped, ${fileURLToPath(CORPORA_DIR)} is absent`, {
    skip: true,
  }, () => {});
} else {
  const hit = new Set<object>();

  for (const corpus of loadCorpora()) {
    test(`${corpus.name}: well-formed lines parse to known kinds, fields and counters agree`, (t) => {
      const tally = new Tally(corpus.name);
      for (const line of corpus.cases) checkLine(tally, line);
      checkCounters(tally, corpus);
      for (const difference of tally.listedHit) hit.add(difference);
      t.diagnostic(tally.summary());
      for (const explained of tally.explained) t.diagnostic(`listed difference: ${explained}`);
      for (const mismatch of tally.mismatches) t.diagnostic(`mismatch: ${mismatch}`);
      assert.deepEqual(
        tally.failures,
        [],
        "well-formed lines are known kinds, malformed ones are not, endpoints are addresses",
      );
      assert.ok(tally.fieldsAgreed >= MIN_AGREEMENT * tally.fields, "field agreement");
      assert.ok(tally.countersAgreed >= MIN_AGREEMENT * tally.counters, "counter agreement");
    });
  }

  test("every listed difference still occurs", () => {
    const stale = [...DIFFERENCES, ...NOT_POSTFIX_OUTPUT].filter((difference) => !hit.has(difference));
    assert.deepEqual(stale, []);
  });
}
