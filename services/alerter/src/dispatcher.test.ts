import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Alert } from "../../../shared/src/contracts/alerts.js";
import { AlertDispatcher, type DispatcherOptions, type DispatchOutcome, type Sink } from "./dispatcher.js";
import type { PostOutcome } from "./http-sink.js";
import { sampleAlert } from "./testing.js";

/** A sink that answers from a script and records each request's alerts. */
function scriptedSink(
  name: string,
  outcomes: PostOutcome[],
  grouping: Sink["grouping"] = "each",
): Sink & { sent: Alert[]; requests: number } {
  const sent: Alert[] = [];
  const sink = {
    name,
    grouping,
    sent,
    requests: 0,
    async send(alerts: readonly Alert[]) {
      sink.requests++;
      sent.push(...alerts);
      return outcomes.shift() ?? ({ type: "delivered", status: 200 } as const);
    },
  };
  return sink;
}

/** Dispatches one alert as a batch of one. */
async function dispatchOne(
  dispatcher: AlertDispatcher,
  alert: Alert,
  attempt: number,
): Promise<DispatchOutcome | undefined> {
  const [outcome] = await dispatcher.dispatch([{ alert, attempt }]);
  return outcome;
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
    assert.deepEqual(await dispatchOne(dispatcher, sampleAlert(), 1), { type: "delivered" });
    assert.deepEqual(await dispatchOne(dispatcher, sampleAlert(), 1), { type: "duplicate" });
    assert.equal(slack.sent.length, 1);
    assert.equal(webhook.sent.length, 1);
  });

  it("sends the resolved notice of a delivered firing alert", async () => {
    const slack = scriptedSink("slack", []);
    const dispatcher = new AlertDispatcher([slack], options(), quiet);
    await dispatchOne(dispatcher, sampleAlert(), 1);
    assert.deepEqual(await dispatchOne(dispatcher, sampleAlert({ state: "resolved" }), 1), {
      type: "delivered",
    });
    assert.equal(slack.sent.length, 2);
  });

  it("retries only the sink that failed, with exponential backoff", async () => {
    const slack = scriptedSink("slack", []);
    const webhook = scriptedSink("webhook", [
      { type: "retry", reason: "http_500" },
      { type: "retry", reason: "http_503" },
    ]);
    const dispatcher = new AlertDispatcher([slack, webhook], options(), quiet);
    assert.deepEqual(await dispatchOne(dispatcher, sampleAlert(), 1), {
      type: "retry",
      delayMs: 1000,
      reasons: ["webhook: http_500"],
    });
    assert.deepEqual(await dispatchOne(dispatcher, sampleAlert(), 2), {
      type: "retry",
      delayMs: 2000,
      reasons: ["webhook: http_503"],
    });
    assert.deepEqual(await dispatchOne(dispatcher, sampleAlert(), 3), { type: "delivered" });
    assert.equal(slack.sent.length, 1, "Slack already had it: a retry must not post it again");
    assert.equal(webhook.sent.length, 3);
  });

  it("waits as long as Retry-After asks when that is longer than the backoff", async () => {
    const dispatcher = new AlertDispatcher(
      [scriptedSink("slack", [{ type: "retry", reason: "http_429", retryAfterMs: 30_000 }])],
      options(),
      quiet,
    );
    assert.deepEqual(await dispatchOne(dispatcher, sampleAlert(), 1), {
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
    assert.deepEqual(await dispatchOne(permanent, sampleAlert(), 1), {
      type: "failed",
      reasons: ["webhook: http_400"],
    });
    const flaky = new AlertDispatcher(
      [scriptedSink("webhook", [{ type: "retry", reason: "timeout" }])],
      options(),
      quiet,
    );
    assert.deepEqual(await dispatchOne(flaky, sampleAlert(), 3), {
      type: "failed",
      reasons: ["webhook: timeout"],
    });
  });

  it("posts a batch to a grouping sink once and to a per-alert sink once per alert", async () => {
    const slack = scriptedSink("slack", [], "grouped");
    const webhook = scriptedSink("webhook", []);
    const dispatcher = new AlertDispatcher([slack, webhook], options(), quiet);
    const batch = ["198.18.7.21", "198.18.7.22", "198.18.40.3"].map((ip, i) => ({
      alert: sampleAlert({ fingerprint: `f${i}`, key: { type: "client_ip", value: ip } }),
      attempt: 1,
    }));
    const outcomes = await dispatcher.dispatch([...batch, batch[0] as (typeof batch)[number]]);
    assert.deepEqual(
      outcomes.map((o) => o.type),
      ["delivered", "delivered", "delivered", "duplicate"],
    );
    assert.equal(slack.requests, 1);
    assert.equal(slack.sent.length, 3);
    assert.equal(webhook.requests, 3);
  });

  it("retries every alert of a grouped request that failed, and only those still owed", async () => {
    const slack = scriptedSink(
      "slack",
      [{ type: "retry", reason: "http_429", retryAfterMs: 2000 }],
      "grouped",
    );
    const webhook = scriptedSink("webhook", []);
    const dispatcher = new AlertDispatcher([slack, webhook], options(), quiet);
    const batch = [0, 1].map((i) => ({ alert: sampleAlert({ fingerprint: `g${i}` }), attempt: 1 }));
    const first = await dispatcher.dispatch(batch);
    assert.deepEqual(
      first.map((o) => o.type),
      ["retry", "retry"],
    );
    const second = await dispatcher.dispatch(batch.map((d) => ({ ...d, attempt: 2 })));
    assert.deepEqual(
      second.map((o) => o.type),
      ["delivered", "delivered"],
    );
    assert.equal(webhook.requests, 2, "the webhook already had both: not posted again");
    assert.equal(slack.requests, 2);
  });

  it("forgets delivered alerts after the dedup window", async () => {
    let now = 0;
    const slack = scriptedSink("slack", []);
    const dispatcher = new AlertDispatcher(
      [slack],
      options(() => now),
      quiet,
    );
    await dispatchOne(dispatcher, sampleAlert(), 1);
    now = 60_001;
    assert.deepEqual(await dispatchOne(dispatcher, sampleAlert(), 1), { type: "delivered" });
    assert.equal(slack.sent.length, 2);
  });
});
