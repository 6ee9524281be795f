/** Bounded waits for a pipeline on JetStream to settle, for tests that count what went through it. */
import type { JetStreamManager } from "@nats-io/jetstream";

/** Polls `condition` (a rejection counts as false) until it holds; rejects after `timeoutMs`. */
export async function waitUntil(
  timeoutMs: number,
  what: string,
  condition: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Whether `stream` has consumers and every one has acked all it was handed, with nothing left to hand out. */
export async function consumersCaughtUp(jsm: JetStreamManager, stream: string): Promise<boolean> {
  const consumers = await jsm.consumers.list(stream).next();
  return (
    consumers.length > 0 &&
    consumers.every((consumer) => consumer.num_pending === 0 && consumer.num_ack_pending === 0)
  );
}
