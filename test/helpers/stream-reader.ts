/**
 * Reads a JetStream stream from the start with an ordered consumer on its own connection, keeping
 * every message (subject + decoded JSON) so a test can wait, bounded, for what it expects. The
 * events stream is read event by event: `readEvents` unpacks each batch in order.
 */
import { DeliverPolicy, type JsMsg, jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { decodeEventMessage } from "../../shared/src/contracts/event-batch.js";
import type { PostfixEvent } from "../../shared/src/contracts/events.js";
import { EVENTS_STREAM } from "../../shared/src/contracts/subjects.js";

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

/** Every event in the events stream, in stream order; an event the contract rejects fails the test. */
export const readEvents = (url: string): Promise<StreamReader<PostfixEvent>> =>
  readStream(url, EVENTS_STREAM, (message) =>
    decodeEventMessage(message.data).map((decoded) => {
      if ("rejected" in decoded) throw new Error(`unreadable event in the stream: ${decoded.detail}`);
      return decoded.event;
    }),
  );

export async function readStream<T>(
  url: string,
  stream: string,
  decode: (message: JsMsg) => T[] = (message) => [message.json<T>()],
): Promise<StreamReader<T>> {
  const connection = await connect({ servers: url, name: "postwatch-test-reader" });
  const consumer = await jetstream(connection).consumers.get(stream, { deliver_policy: DeliverPolicy.All });
  const iterator = await consumer.consume();
  const messages: StreamMessage<T>[] = [];
  const loop = (async () => {
    for await (const message of iterator) {
      for (const data of decode(message)) messages.push({ subject: message.subject, seq: message.seq, data });
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
