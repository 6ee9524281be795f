import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PostfixEvent } from "../contracts/events.js";
import { syntheticDay } from "./report.testkit.js";
import { formatTrace, type LoggedEvent, traceQueueId } from "./trace.js";

const describeEntry = ({ event }: LoggedEvent) => `${event.queueId ?? "-"} ${event.kind}`;

describe("traceQueueId", () => {
  it("gathers the message's lines, its bounce's, and the submitting session's", () => {
    const trace = traceQueueId(syntheticDay(), "Q1");
    assert.deepEqual(
      trace.linked.map((l) => l.queueId),
      ["Q1", "B1"],
    );
    assert.deepEqual(trace.entries.map(describeEntry), [
      "- connect",
      "Q1 client",
      "Q1 queued",
      // Q2's client= line from the same session is another message's story.
      "- disconnect",
      "Q1 delivery",
      "Q1 delivery",
      "Q1 delivery",
      "Q1 delivery",
      "B1 message_id",
      "Q1 bounce_notice",
      "B1 queued",
      "B1 delivery",
      "B1 removed",
    ]);
    const [original, notification] = trace.messages;
    assert.equal(original?.saslUsername, "printer@corp.example");
    assert.equal(original?.end, "evicted", "Q1 still has a deferred recipient when the input ends");
    assert.equal(notification?.bounceOf, "Q1");
  });

  it("finds the original from the bounce notification's ID", () => {
    const trace = traceQueueId(syntheticDay(), "B1");
    assert.deepEqual(
      trace.linked.map((l) => l.queueId),
      ["Q1", "B1"],
    );
  });

  it("follows a content filter's hand-off both ways", () => {
    for (const queueId of ["Q3", "Q4"]) {
      const trace = traceQueueId(syntheticDay(), queueId);
      assert.deepEqual(
        trace.linked.map((l) => l.queueId),
        ["Q3", "Q4"],
      );
      assert.equal(trace.messages.find((m) => m.queueId === "Q4")?.saslUsername, "alice@corp.example");
    }
  });

  it("prints the raw lines when the caller passes them", () => {
    const logged: LoggedEvent[] = syntheticDay().map((event: PostfixEvent, index) => ({
      event,
      line: `line ${index}`,
    }));
    const text = formatTrace(traceQueueId(logged, "Q2"));
    assert.match(text, /^Trace of Q2: 1 linked queue ID\(s\): Q2@mail\.example$/m);
    assert.match(
      text,
      /^Q2 on mail\.example: client unknown\[203\.0\.113\.66\], sasl_username=printer@corp\.example \(LOGIN\)$/m,
    );
    assert.match(text, /^ {2}to=<d@one\.example> bounced dsn=5\.0\.0 /m);
    assert.match(text, /^line 0\nline 3\nline 4\nline 5\nline 15\nline 16\n$/m);
  });

  it("renders events when there are no raw lines, and says so when nothing matches", () => {
    const text = formatTrace(traceQueueId(syntheticDay(), "Q2"));
    assert.match(text, /^2026-04-16T06:29:10\.000Z mail\.example postfix\/qmgr\[100\]: Q2: removed$/m);
    assert.equal(formatTrace(traceQueueId(syntheticDay(), "NOPE")), "No log lines mention queue ID NOPE.\n");
  });
});
