import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Alert } from "../../../shared/src/contracts/alerts.js";
import { AlertDispatcher, type DispatcherOptions, type Sink } from "./dispatcher.js";
import type { PostOutcome } from "./http-sink.js";
import { sampleAlert } from "./testing.js";

/** A sink that answers from a script and records what it was sent. */
function scriptedSink(name: string, outcomes: PostOutcome[]): Sink & { sent: Alert[] } {
  const sent: Alert[] = [];
  return {
    name,
    sent,
    async send(alert) {
      sent.push(alert);
      return outcomes.shift() ?? { type: "delivered", status: 200 };
    },
  };
}

const options = (now = () => 0): DispatcherOptions => ({
  dedupWindowMs: 60_000,
  maxAttempts: 3,
  baseRetryDelayMs: 1000,
  maxRetryDelayMs: 5000,
  now,
});
const quiet = { sinkResult: () => undefined };

describe("AlertDispatcher", () => {
  it("delivers to every sink and then treats the same alert as a duplicate", async () => {
    const slack = scriptedSink("slack", []);
    const webhook = scriptedSink("webhook", []);
    const dispatcher = new AlertDispatcher([slack, webhook], options(), quiet);
    assert.deepEqual(await dispatcher.dispatch(sampleAlert(), 1), { type: "delivered" });
    assert.deepEqual(await dispatcher.dispatch(sampleAlert(), 1), { type: "duplicate" });
    assert.equal(slack.sent.length, 1);
    assert.equal(webhook.sent.length, 1);
  });

  it("sends the resolved notice of a delivered firing alert", async () => {
    const slack = scriptedSink("slack", []);
    const dispatcher = new AlertDispatcher([slack], options(), quiet);
    await dispatcher.dispatch(sampleAlert(), 1);
    assert.deepEqual(await dispatcher.dispatch(sampleAlert({ state: "resolved" }), 1), { type: "delivered" });
    assert.equal(slack.sent.length, 2);
  });

  it("retries only the sink that failed, with exponential backoff", async () => {
    const slack = scriptedSink("slack", []);
    const webhook = scriptedSink("webhook", [
      { type: "retry", reason: "http_500" },
      { type: "retry", reason: "http_503" },
    ]);
    const dispatcher = new AlertDispatcher([slack, webhook], options(), quiet);
    assert.deepEqual(await dispatcher.dispatch(sampleAlert(), 1), {
      type: "retry",
      delayMs: 1000,
      reasons: ["webhook: http_500"],
    });
    assert.deepEqual(await dispatcher.dispatch(sampleAlert(), 2), {
      type: "retry",
      delayMs: 2000,
      reasons: ["webhook: http_503"],
    });
    assert.deepEqual(await dispatcher.dispatch(sampleAlert(), 3), { type: "delivered" });
    assert.equal(slack.sent.length, 1, "Slack already had it: a retry must not post it again");
    assert.equal(webhook.sent.length, 3);
  });

  it("waits as long as Retry-After asks when that is longer than the backoff", async () => {
    const dispatcher = new AlertDispatcher(
      [scriptedSink("slack", [{ type: "retry", reason: "http_429", retryAfterMs: 30_000 }])],
      options(),
      quiet,
    );
    assert.deepEqual(await dispatcher.dispatch(sampleAlert(), 1), {
      type: "retry",
      delayMs: 30_000,
      reasons: ["slack: http_429"],
    });
  });

  it("gives up on a permanent error and after the last attempt", async () => {
    const permanent = new AlertDispatcher(
      [scriptedSink("webhook", [{ type: "permanent", reason: "http_400" }])],
      options(),
      quiet,
    );
    assert.deepEqual(await permanent.dispatch(sampleAlert(), 1), {
      type: "failed",
      reasons: ["webhook: http_400"],
    });
    const flaky = new AlertDispatcher(
      [scriptedSink("webhook", [{ type: "retry", reason: "timeout" }])],
      options(),
      quiet,
    );
    assert.deepEqual(await flaky.dispatch(sampleAlert(), 3), {
      type: "failed",
      reasons: ["webhook: timeout"],
    });
  });

  it("forgets delivered alerts after the dedup window", async () => {
    let now = 0;
    const slack = scriptedSink("slack", []);
    const dispatcher = new AlertDispatcher(
      [slack],
      options(() => now),
      quiet,
    );
    await dispatcher.dispatch(sampleAlert(), 1);
    now = 60_001;
    assert.deepEqual(await dispatcher.dispatch(sampleAlert(), 1), { type: "delivered" });
    assert.equal(slack.sent.length, 2);
  });
});
