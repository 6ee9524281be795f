import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { JsMsg } from "@nats-io/jetstream";
import { coalescedAcks } from "./consumer.js";

/** Records the order of acks across messages. */
function messages(count: number, acked: number[]): JsMsg[] {
  return Array.from(
    { length: count },
    (_, seq) => ({ seq, info: { consumer: "c" }, ack: () => acked.push(seq) }) as unknown as JsMsg,
  );
}

describe("coalescedAcks", () => {
  it("sends the acks of one event-loop turn together, in order, on the next turn", async () => {
    const acked: number[] = [];
    const acks = coalescedAcks();
    const batch = messages(3, acked);
    for (const message of batch) {
      await Promise.resolve(); // each from a microtask of its own, as a handler that awaits
      acks.ack(message);
    }
    assert.deepEqual(acked, [], "nothing is sent within the turn");
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(acked, [0, 1, 2]);
  });

  it("flush sends what is queued at once, and only once", async () => {
    const acked: number[] = [];
    const acks = coalescedAcks();
    for (const message of messages(2, acked)) acks.ack(message);
    acks.flush();
    assert.deepEqual(acked, [0, 1]);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(acked, [0, 1]);
  });

  it("knows the messages it acked, by consumer and sequence, the latest it remembers", () => {
    const acks = coalescedAcks(2);
    const [first, second, third] = messages(3, []) as [JsMsg, JsMsg, JsMsg];
    const elsewhere = { seq: first.seq, info: { consumer: "other" } } as unknown as JsMsg;
    acks.ack(first);
    acks.ack(first);
    acks.ack(second);
    assert.equal(acks.ackedBefore(first), true, "a redelivery of an acked message");
    assert.equal(acks.ackedBefore(elsewhere), false, "the same sequence from another consumer");
    assert.equal(acks.ackedBefore(third), false);
    acks.ack(third);
    assert.deepEqual(
      [first, second, third].map(acks.ackedBefore),
      [false, true, true],
      "the oldest forgotten",
    );
    acks.flush();
  });
});
