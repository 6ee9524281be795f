import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Alert } from "../../../shared/src/contracts/alerts.js";
import type { DeliveryLog } from "./delivery-log.js";
import type { PostOutcome } from "./http-sink.js";
import { type SinkOutcome, SinkQueue, type SinkQueueOptions } from "./sink-queue.js";
import type { Sink } from "./sinks.js";
import { memoryDeliveryLog, sampleAlert } from "./testing.js";

/** A sink that answers from a script and records each request's alerts. */
function scriptedSink(
  outcomes: PostOutcome[],
  grouping: Sink["grouping"] = "each",
  accepts: (alert: Alert) => boolean = () => true,
): Sink & { requests: Alert[][] } {
  const requests: Alert[][] = [];
  return {
    name: "hook",
    grouping,
    requests,
    accepts,
    async send(alerts) {
      requests.push([...alerts]);
      return outcomes.shift() ?? { type: "delivered", status: 200 };
    },
  };
}

const options: SinkQueueOptions = {
  groupWaitMs: 5,
  groupMax: 50,
  maxAttempts: 3,
  baseRetryDelayMs: 10,
  maxRetryDelayMs: 25,
};

/** Runs alerts through a queue and resolves with each one's outcome, in order. */
async function run(
  sink: Sink,
  alerts: Alert[],
  log: DeliveryLog = memoryDeliveryLog(),
  retries: number[] = [],
): Promise<SinkOutcome["type"][]> {
  const queue = new SinkQueue(sink, log, options, {
    request: () => undefined,
    retry: (_alerts, _reasons, delayMs) => retries.push(delayMs),
    recordFailed: (error) => assert.fail(String(error)),
  });
  const outcomes = alerts.map(
    (alert) =>
      new Promise<SinkOutcome>((settle) => {
        queue.add({ alert, settle });
      }),
  );
  const settled = await Promise.all(outcomes);
  await queue.stop();
  return settled.map((o) => o.type);
}

const wave = (n: number) =>
  Array.from({ length: n }, (_, i) =>
    sampleAlert({ fingerprint: `f${i}`, key: { type: "client_ip", value: `198.18.7.${i}` } }),
  );

describe("SinkQueue", () => {
  it("delivers, then drops the same notification as a duplicate, across queues sharing a log", async () => {
    const log = memoryDeliveryLog();
    const sink = scriptedSink([]);
    assert.deepEqual(await run(sink, [sampleAlert(), sampleAlert()], log), ["delivered", "duplicate"]);
    assert.deepEqual(await run(sink, [sampleAlert()], log), ["duplicate"], "a restart remembers");
    assert.equal(sink.requests.length, 1);
  });

  it("sends a resolved notice only where its firing alert went", async () => {
    const log = memoryDeliveryLog();
    const sink = scriptedSink([]);
    const resolved = sampleAlert({ state: "resolved", endsAt: "2026-02-23T12:20:00.000Z" });
    assert.deepEqual(await run(sink, [resolved], log), ["resolved_unseen"]);
    assert.deepEqual(await run(sink, [sampleAlert(), resolved], log), ["delivered", "delivered"]);
    assert.equal(sink.requests.length, 1 + 0 + 1);
  });

  it("retries with exponential backoff, capped, then delivers", async () => {
    const retries: number[] = [];
    const sink = scriptedSink([
      { type: "retry", reason: "http_500" },
      { type: "retry", reason: "http_503" },
    ]);
    assert.deepEqual(await run(sink, [sampleAlert()], memoryDeliveryLog(), retries), ["delivered"]);
    assert.deepEqual(retries, [10, 20]);
    assert.equal(sink.requests.length, 3);
  });

  it("waits as long as Retry-After asks when that is longer than the backoff", async () => {
    const retries: number[] = [];
    const sink = scriptedSink([{ type: "retry", reason: "http_429", retryAfterMs: 40 }]);
    await run(sink, [sampleAlert()], memoryDeliveryLog(), retries);
    assert.deepEqual(retries, [40]);
  });

  it("gives up on a permanent error at once and after the last attempt", async () => {
    const permanent = scriptedSink([{ type: "permanent", reason: "http_400" }]);
    assert.deepEqual(await run(permanent, [sampleAlert()]), ["failed"]);
    assert.equal(permanent.requests.length, 1);
    const flaky = scriptedSink(
      Array.from({ length: 5 }, () => ({ type: "retry", reason: "timeout" }) as const),
    );
    assert.deepEqual(await run(flaky, [sampleAlert()]), ["failed"]);
    assert.equal(flaky.requests.length, options.maxAttempts);
  });

  it("posts a wave to a grouping sink in one request, to a per-alert sink one request each", async () => {
    const grouped = scriptedSink([], "grouped");
    assert.deepEqual(
      await run(grouped, [
        ...wave(3),
        sampleAlert({ fingerprint: "f0", key: { type: "client_ip", value: "198.18.7.0" } }),
      ]),
      ["delivered", "delivered", "delivered", "duplicate"],
    );
    assert.equal(grouped.requests.length, 1);
    assert.equal(grouped.requests[0]?.length, 3);
    const each = scriptedSink([]);
    await run(each, wave(3));
    assert.deepEqual(
      each.requests.map((r) => r.length),
      [1, 1, 1],
    );
  });

  it("keeps order: a later alert waits while an earlier one is retried", async () => {
    const sink = scriptedSink([{ type: "retry", reason: "http_502" }]);
    await run(sink, wave(2));
    assert.deepEqual(
      sink.requests.map(([alert]) => alert?.fingerprint),
      ["f0", "f0", "f1"],
    );
  });

  it("does not send what the destination's routing leaves out", async () => {
    const sink = scriptedSink([], "each", (alert) => alert.severity !== "info");
    assert.deepEqual(await run(sink, [sampleAlert({ severity: "info" }), sampleAlert()]), [
      "filtered",
      "delivered",
    ]);
    assert.equal(sink.requests.length, 1);
  });

  it("defers an alert whose delivery records cannot be read, and sends nothing", async () => {
    const unreadable: DeliveryLog = {
      has: async () => {
        throw new Error("no responders");
      },
      record: async () => undefined,
    };
    const sink = scriptedSink([]);
    assert.deepEqual(await run(sink, [sampleAlert()], unreadable), ["deferred"]);
    assert.equal(sink.requests.length, 0);
  });

  it("settles a delivered alert only once its record is stored, retrying the record", async () => {
    const stored: string[] = [];
    let failures = 2;
    const flaky: DeliveryLog = {
      has: async () => false,
      record: async (_destination, notices) => {
        if (failures-- > 0) throw new Error("no JetStream leader");
        stored.push(...notices.map((notice) => notice.fingerprint));
      },
    };
    const failedRecords: unknown[] = [];
    const queue = new SinkQueue(scriptedSink([]), flaky, options, {
      request: () => undefined,
      retry: () => undefined,
      recordFailed: (error) => failedRecords.push(error),
    });
    const alert = sampleAlert();
    const recordedAtSettle: string[] = [];
    const outcome = await new Promise<SinkOutcome>((resolve) =>
      queue.add({
        alert,
        settle: (outcome) => {
          recordedAtSettle.push(...stored);
          resolve(outcome);
        },
      }),
    );
    await queue.stop();
    assert.equal(outcome.type, "delivered");
    assert.deepEqual(recordedAtSettle, [alert.fingerprint], "recorded before it was settled");
    assert.equal(failedRecords.length, 2);
  });

  it("leaves what it had not delivered unsettled when stopped mid-retry", async () => {
    const sink = scriptedSink(
      Array.from({ length: 5 }, () => ({ type: "retry", reason: "timeout" }) as const),
    );
    const queue = new SinkQueue(
      sink,
      memoryDeliveryLog(),
      { ...options, baseRetryDelayMs: 60_000, maxRetryDelayMs: 60_000 },
      {
        request: () => undefined,
        retry: () => undefined,
        recordFailed: () => undefined,
      },
    );
    let settled = false;
    queue.add({ alert: sampleAlert(), settle: () => (settled = true) });
    while (sink.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await queue.stop();
    assert.equal(settled, false);
    assert.equal(sink.requests.length, 1);
  });

  it("aborts a request in flight when stopped, and leaves its alert to the next start", {
    timeout: 5000,
  }, async () => {
    let sent = 0;
    const hanging: Sink = {
      name: "hook",
      grouping: "each",
      accepts: () => true,
      send: (_alerts, stop) => {
        sent++;
        return new Promise((resolve) =>
          stop?.addEventListener("abort", () => resolve({ type: "retry", reason: "AbortError" })),
        );
      },
    };
    const queue = new SinkQueue(hanging, memoryDeliveryLog(), options, {
      request: () => undefined,
      retry: () => undefined,
      recordFailed: () => undefined,
    });
    let settled = false;
    queue.add({ alert: sampleAlert(), settle: () => (settled = true) });
    while (sent === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await queue.stop();
    assert.equal(settled, false);
  });
});
