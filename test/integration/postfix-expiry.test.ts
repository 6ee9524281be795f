/**
 * A message a real Postfix cannot deliver until it gives up: retried every second, a delay warning
 * to its sender, then `status=expired, returned to sender` and a non-delivery notice (Postfix with a
 * 3-second maximal_queue_lifetime, test/helpers/postfix.ts).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { EventOf } from "../../shared/src/contracts/events.js";
import { type PostfixServer, startPostfix } from "../helpers/postfix.js";
import { smtpSession } from "../helpers/smtp-clients.js";
import { ALICE, type ReadLog, readLog } from "./postfix-scenario.js";

const PASSWORD = "Expiry-test-pw";

describe("a real Postfix giving up on a message", () => {
  let postfix: PostfixServer;
  let log: ReadLog;

  before(async () => {
    postfix = await startPostfix({ users: { [ALICE]: PASSWORD }, queueLifetimeSeconds: 3 });
    await smtpSession({
      port: postfix.ports.submission,
      auth: { mechanism: "PLAIN", user: ALICE, password: PASSWORD },
      from: ALICE,
      to: "c@deferred.test",
    });
    const expired = /: ([0-9A-F]{6,}): from=<[^>]*>, status=expired, returned to sender/;
    await postfix.waitForLog((text) => {
      const id = expired.exec(text)?.[1];
      return (
        id !== undefined &&
        text.includes(`${id}: removed`) &&
        text.includes("sender non-delivery notification")
      );
    });
    log = await readLog(postfix.maillog);
  });

  after(() => postfix?.stop());

  test("the expiry, the delay warning and the non-delivery notice are events of their kinds", () => {
    const expired = log.events.filter((event): event is EventOf<"expired"> => event.kind === "expired");
    assert.deepEqual(
      expired.map((event) => [event.from, event.forced]),
      [[ALICE, false]],
    );
    const notices = log.events.flatMap((event) => (event.kind === "bounce_notice" ? [event.notice] : []));
    assert.deepEqual(notices, ["delay", "non-delivery"]);
  });

  test("the message's summary ends expired, names its account and links both notices", () => {
    const [summary] = log.summaries.filter((message) => message.saslUsername === ALICE);
    assert.ok(summary);
    assert.equal(summary.end, "expired");
    assert.deepEqual(
      summary.recipients.map((r) => [r.to, r.status]),
      [["c@deferred.test", "deferred"]],
    );
    assert.equal(summary.bounceQueueIds.length, 2, "the delay warning and the non-delivery notice");
    const bounces = log.summaries.filter((message) => message.bounceOf === summary.queueId);
    assert.equal(bounces.length, 2);
  });
});
