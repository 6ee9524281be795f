/** The real seed logs through the real parsers: syslog line → parsePostfix → Correlator → report/trace. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import type { EventOf, PostfixEvent } from "../contracts/events.js";
import { buildReport } from "../report/report.js";
import { formatTrace, type LoggedEvent, traceQueueId } from "../report/trace.js";
import { parseSyslogLine } from "../syslog/parse.js";
import { Correlator } from "./correlate.js";
import { parsePostfix } from "./parse.js";

/** dist/shared/src/postfix/ → the repository root. */
const FIXTURES = new URL("../../../../test/fixtures/", import.meta.url);

function parseFixture(name: string, referenceTime: number): LoggedEvent[] {
  const text = readFileSync(new URL(name, FIXTURES), "utf8");
  return text
    .split("\n")
    .filter((line) => line !== "")
    .flatMap((line) => {
      const record = parseSyslogLine(line, { referenceTime });
      const event = record && parsePostfix(record);
      return event ? [{ event, line }] : [];
    });
}

function correlate(
  events: PostfixEvent[],
  options: ConstructorParameters<typeof Correlator>[0] = {},
): PostfixEvent[] {
  const correlator = new Correlator(options);
  const out = events.flatMap((event) => correlator.push(event));
  return [...out, ...correlator.sweep(Number.POSITIVE_INFINITY)];
}

const messageFor = (out: PostfixEvent[], queueId: string) =>
  out.find((e): e is EventOf<"message"> => e.kind === "message" && e.queueId === queueId);

describe("seed 003 fixture: relay abuse", () => {
  const logged = parseFixture("seed-003-relay-abuse.log", Date.UTC(2021, 3, 17));
  const out = correlate(logged.map((l) => l.event));

  it("links each bounce to the notification it caused", () => {
    const virus = messageFor(out, "418621D80D");
    assert.equal(virus?.end, "removed");
    assert.deepEqual(virus?.bounceQueueIds, ["6711A1D7B7"]);
    assert.equal(virus?.recipients[0]?.status, "bounced");
    assert.match(virus?.recipients[0]?.response ?? "", /551 virus infected mail rejected/);
    assert.equal(messageFor(out, "6711A1D7B7")?.bounceOf, "418621D80D");
    assert.equal(messageFor(out, "6711A1D7B7")?.size, 2554);
    assert.deepEqual(messageFor(out, "65E4C1D95F")?.bounceQueueIds, ["705F91D801"]);
    assert.equal(messageFor(out, "705F91D801")?.bounceOf, "65E4C1D95F");
    assert.equal(messageFor(out, "EC5A91D727")?.bounceOf, "B37D31D6FA");
  });

  it("gives the detector's first-pass mode the same summaries: nothing in it was deferred", () => {
    assert.deepEqual(
      correlate(
        logged.map((l) => l.event),
        { summarizeAt: "first_pass" },
      ),
      out,
    );
  });

  it("reports the deliveries and bounces pflogsumm would", () => {
    const { totals } = buildReport(logged.map((l) => l.event));
    assert.equal(totals.delivered, 3);
    assert.equal(totals.bounced, 2);
    assert.equal(totals.received, 0, "the excerpt holds no client= line");
  });

  it("traces 418621D80D with its notification, printing the log's own lines", () => {
    const text = formatTrace(traceQueueId(logged, "418621D80D"));
    const logLines = text.slice(text.indexOf("Log lines"));
    assert.equal(logLines.split("\n").filter((line) => line.startsWith("Apr 16")).length, 5);
    assert.match(text, /^418621D80D on mail\.xxx\.com: client not in the log$/m);
    assert.match(text, /^ {2}bounce notification for 418621D80D$/m);
  });
});

describe("seed 002 fixture: TLS debug brute force", () => {
  const out = correlate(
    parseFixture("seed-002-tls-debug-bruteforce.log", Date.UTC(2015, 1, 24)).map((l) => l.event),
  );

  it("ties every client-less debug line after connect to the client by pid", () => {
    const connectAt = out.findIndex((e) => e.kind === "connect");
    const debugLines = out.slice(connectAt).filter((e) => e.kind === "debug");
    assert.ok(debugLines.length > 30);
    for (const line of debugLines) assert.equal(line.client?.ip, "176.103.49.30", line.text);
  });

  it("names the user the AUTH PLAIN attempt tried on the SASL failure", () => {
    const failure = out.find((e) => e.kind === "sasl_auth_failed");
    assert.equal(failure?.kind === "sasl_auth_failed" && failure.saslUsername, "admin@fipick.com");
  });
});
