/**
 * Reads a JetStream stream from the start with an ordered consumer on its own connection, keeping
 * every message (subject + decoded JSON) so a test can wait, bounded, for what it expects.
 */
import { DeliverPolicy, jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";

export interface StreamMessage<T> {
  subject: string;
  seq: number;
  data: T;
}

export interface StreamReader<T> {
  readonly messages: StreamMessage<T>[];
  /** Resolves with all messages once `predicate` holds for them; rejects after `timeoutMs`. */
  waitFor(
    predicate: (messages: StreamMessage<T>[]) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<StreamMessage<T>[]>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function readStream<T>(
  url: string,
  stream: string,
  filterSubject?: string,
): Promise<StreamReader<T>> {
  const connection = await connect({ servers: url, name: "postwatch-test-reader" });
  const consumer = await jetstream(connection).consumers.get(stream, {
    deliver_policy: DeliverPolicy.All,
    ...(filterSubject ? { filter_subjects: [filterSubject] } : {}),
  });
  const iterator = await consumer.consume();
  const messages: StreamMessage<T>[] = [];
  const loop = (async () => {
    for await (const message of iterator) {
      messages.push({ subject: message.subject, seq: message.seq, data: message.json<T>() });
    }
  })().catch(() => undefined);
  const close = async () => {
    await iterator.close().catch(() => undefined);
    await loop;
    await connection.close().catch(() => undefined);
  };
  return {
    messages,
    async waitFor(predicate, timeoutMs, what) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (predicate(messages)) return messages;
        if (Date.now() > deadline)
          throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; have ${messages.length}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
