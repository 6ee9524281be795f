/**
 * A real Postfix with `-v` on smtpd, cleanup, qmgr and smtp, as an admin turns it on to debug: its
 * internal tracing (debug events; under 1% of lines left unparsed, counted) must neither let a
 * password through nor break the correlation.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { PostfixEvent } from "../../shared/src/contracts/events.js";
import { type PostfixServer, startPostfix } from "../helpers/postfix.js";
import { smtpSession } from "../helpers/smtp-clients.js";
import { ALICE, b64, everyStoryEnded, type Message, type ReadLog, readLog } from "./postfix-scenario.js";

describe("a real Postfix's log with -v on smtpd, cleanup, qmgr and smtp", () => {
  const PASSWORD = "S3cret-verbose-pw";
  const WRONG = "Wrong-verbose-pw";
  let postfix: PostfixServer;
  let events: PostfixEvent[];
  let summaries: Message[];
  let stats: ReadLog["stats"];

  before(async () => {
    postfix = await startPostfix({ users: { [ALICE]: PASSWORD }, verbose: true });
    const port = postfix.ports.submission;
    await smtpSession({
      port,
      tls: true,
      auth: { mechanism: "PLAIN", user: ALICE, password: PASSWORD },
      from: ALICE,
      to: "a@remote.test",
    });
    await smtpSession({ port, auth: { mechanism: "LOGIN", user: ALICE, password: WRONG }, authOnly: true });
    await postfix.waitForLog(
      (log) => everyStoryEnded(log, { deferral: false }) && log.includes("authentication failed"),
    );
    ({ stats, events, summaries } = await readLog(postfix.maillog));
  });

  after(() => postfix?.stop());

  test("the tracing is debug events, and neither password leaves the parser", (t) => {
    const unparsed = stats.byKind.unparsed ?? 0;
    t.diagnostic(
      `${stats.lines} lines: ${stats.byKind.debug} debug, ${unparsed} unparsed (rarer -v shapes, counted)`,
    );
    assert.equal(stats.badHeader, 0);
    assert.ok((stats.byKind.debug ?? 0) > stats.lines / 2, "most of a -v log is tracing");
    // Each -v shape this run writes is known (debug.ts); a new Postfix may add some, hence not 0.
    assert.ok(unparsed <= stats.lines / 100, `${unparsed} of ${stats.lines} lines unparsed`);
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
