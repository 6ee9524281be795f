/**
 * Dead letters: a message a consumer cannot use (an event of a schema version it does not know, an
 * alert no sink took after every retry) is copied to the dead-letter stream with the reason, then
 * acked. Acking, not `term`, is what keeps it from coming back: nats-server 2.9 redelivers a termed
 * message and 2.10 does not, and neither may decide whether one bad message stalls a consumer.
 * `postwatch dead-letters` lists them; `--resend` puts them back where they came from.
 */
import { type JsMsg, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { headers, type NatsConnection } from "@nats-io/transport-node";
import { DEAD_LETTERS_STREAM, deadLetterSubject } from "../contracts/subjects.js";

/** Headers a dead letter carries beside the original payload (docs/contracts.md). */
export const DEAD_LETTER_HEADERS = {
  reason: "Postwatch-Reason",
  detail: "Postwatch-Detail",
  stream: "Postwatch-Stream",
  subject: "Postwatch-Subject",
  seq: "Postwatch-Seq",
  consumer: "Postwatch-Consumer",
} as const;

/** Details are for the admin reading the list: one bounded line. */
const MAX_DETAIL_CHARS = 300;

/**
 * Stores `message` as a dead letter, then acks it. Resolves true the first time this message is
 * dead-lettered and false for a redelivery of one stored already, so callers count messages, not
 * deliveries. If the store fails, the message is not acked: it comes back later, nothing is lost.
 */
export async function deadLetter(
  connection: NatsConnection,
  message: JsMsg,
  reason: string,
  detail = "",
  /** Which of several consumers of the stream gave up on it (the alerter's destinations). */
  consumer = "",
): Promise<boolean> {
  const { stream, streamSequence } = message.info;
  const meta = headers();
  if (consumer) meta.set(DEAD_LETTER_HEADERS.consumer, consumer);
  meta.set(DEAD_LETTER_HEADERS.reason, reason);
  meta.set(DEAD_LETTER_HEADERS.detail, oneLine(detail));
  meta.set(DEAD_LETTER_HEADERS.stream, stream);
  meta.set(DEAD_LETTER_HEADERS.subject, message.subject);
  meta.set(DEAD_LETTER_HEADERS.seq, String(streamSequence));
  const stored = await jetstream(connection).publish(deadLetterSubject(stream), message.data, {
    headers: meta,
    // A redelivery of the same message is the same dead letter.
    msgID: `${stream}.${streamSequence}${consumer ? `.${consumer}` : ""}`,
  });
  message.ack();
  return !stored.duplicate;
}

export interface DeadLetter {
  /** Its sequence in the dead-letter stream. */
  seq: number;
  storedAt: string;
  reason: string;
  detail: string;
  /** Where it came from. */
  stream: string;
  subject: string;
  originalSeq: number;
  /** The consumer that set it aside, when the stream has several (an alert destination). */
  consumer: string;
  data: Uint8Array;
}

const FETCH_EXPIRES_MS = 2000;

/** Every dead letter held, oldest first; none when the stream does not exist yet. */
export async function readDeadLetters(connection: NatsConnection): Promise<DeadLetter[]> {
  const jsm = await jetstreamManager(connection);
  const held = await jsm.streams.info(DEAD_LETTERS_STREAM).then(
    (info) => info.state.messages,
    () => 0,
  );
  const letters: DeadLetter[] = [];
  if (held === 0) return letters;
  const consumer = await jetstream(connection).consumers.get(DEAD_LETTERS_STREAM);
  while (letters.length < held) {
    const batch = await consumer.fetch({ max_messages: held - letters.length, expires: FETCH_EXPIRES_MS });
    const before = letters.length;
    for await (const message of batch) {
      const header = (name: string) => message.headers?.get(name) ?? "";
      letters.push({
        seq: message.seq,
        storedAt: new Date(message.info.timestampNanos / 1e6).toISOString(),
        reason: header(DEAD_LETTER_HEADERS.reason),
        detail: header(DEAD_LETTER_HEADERS.detail),
        stream: header(DEAD_LETTER_HEADERS.stream),
        subject: header(DEAD_LETTER_HEADERS.subject),
        originalSeq: Number(header(DEAD_LETTER_HEADERS.seq)),
        consumer: header(DEAD_LETTER_HEADERS.consumer),
        data: message.data,
      });
    }
    if (letters.length === before) break;
  }
  await consumer.delete().catch(() => undefined);
  return letters;
}

/** Publishes each letter's payload to its original subject again, then removes the letter. */
export async function resendDeadLetters(
  connection: NatsConnection,
  letters: readonly DeadLetter[],
): Promise<number> {
  const js = jetstream(connection);
  const jsm = await jetstreamManager(connection);
  for (const letter of letters) {
    await js.publish(letter.subject, letter.data);
    await jsm.streams.deleteMessage(DEAD_LETTERS_STREAM, letter.seq, false);
  }
  return letters.length;
}

/** Details are read in a terminal: control characters (newlines, escapes) become spaces. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const oneLine = (text: string) => text.replace(/[\u0000-\u001f\u007f]+/g, " ").slice(0, MAX_DETAIL_CHARS);
