/**
 * The queue side of a message's story: qmgr's `from=`, one delivery line per recipient attempt
 * (retries included), the non-delivery notification for bounces, and `removed`.
 */
import { type Client, SERVER_NAME } from "./cast.js";
import type { Prng } from "./prng.js";

/** What happens to one recipient. A deferral either retries to success or stays in the queue. */
export type Fate =
  | { status: "sent" }
  | { status: "bounced"; dsn: string; reply: string }
  | { status: "deferred"; dsn: string; reply: string; retried: boolean };

export type Route = "lmtp" | "virtual" | "local" | "smtp";

export interface Recipient {
  to: string;
  route: Route;
  fate: Fate;
  /** The remote MX for the smtp route. */
  mx?: Client;
  /** Alias the address was expanded from (`orig_to=`), for local deliveries. */
  origTo?: string;
}

/** A point in a story's time; lines written through it move it forward. */
export interface Timeline {
  atUs: number;
}

export interface QueueWriter {
  readonly rng: Prng;
  say(timeline: Timeline, afterMs: number, tag: string, message: string): void;
  nextQueueId(): string;
  /** A pid from the pool of a daemon that runs as several processes (cleanup, smtp, lmtp, ...). */
  poolPid(daemon: string): number;
  readonly qmgrTag: string;
}

const LMTP_RELAY = `${SERVER_NAME}[private/dovecot-lmtp]`;
const RETRY_MIN_MS = 5 * 60_000;
const RETRY_MAX_MS = 15 * 60_000;

/** Writes qmgr's line, every delivery attempt, the sender's notification of bounces, and `removed`. */
export function queueMessage(
  writer: QueueWriter,
  start: Timeline,
  message: { queueId: string; from: string; size: number; recipients: readonly Recipient[] },
): void {
  const { rng, qmgrTag } = writer;
  const { queueId, from, recipients } = message;
  const timeline = { atUs: start.atUs };
  writer.say(
    timeline,
    rng.int(1, 40),
    qmgrTag,
    `${queueId}: from=<${from}>, size=${message.size}, nrcpt=${recipients.length} (queue active)`,
  );
  let endUs = timeline.atUs;
  let staysQueued = false;
  const bounced: Recipient[] = [];
  for (const recipient of recipients) {
    const attempt = { atUs: timeline.atUs };
    writeDelivery(writer, attempt, queueId, recipient, recipient.fate);
    endUs = Math.max(endUs, attempt.atUs);
    if (recipient.fate.status === "bounced") bounced.push(recipient);
    if (recipient.fate.status === "deferred") {
      if (!recipient.fate.retried) {
        staysQueued = true;
        continue;
      }
      const retry = { atUs: attempt.atUs + rng.int(RETRY_MIN_MS, RETRY_MAX_MS) * 1000 };
      writeDelivery(writer, retry, queueId, recipient, { status: "sent" });
      endUs = Math.max(endUs, retry.atUs);
    }
  }
  const end = { atUs: endUs };
  if (bounced.length > 0 && from !== "") notifySender(writer, end, queueId, from);
  if (!staysQueued) writer.say(end, rng.int(1, 20), qmgrTag, `${queueId}: removed`);
}

function writeDelivery(
  writer: QueueWriter,
  timeline: Timeline,
  queueId: string,
  recipient: Recipient,
  fate: Fate,
): void {
  const { rng } = writer;
  const daemon = recipient.route;
  const tag = `postfix/${daemon}[${writer.poolPid(daemon)}]`;
  const remote = daemon === "smtp";
  const setup = remote ? rng.int(5, 900) / 100 : rng.int(0, 5) / 100;
  const transmission = rng.int(1, remote ? 400 : 30) / 100;
  const beforeQmgr = rng.int(1, 40) / 100;
  const delay = beforeQmgr + setup + transmission;
  timeline.atUs += Math.round((setup + transmission) * 1_000_000);
  const mx = recipient.mx ?? { name: "unknown", ip: "0.0.0.0" };
  const relay = { lmtp: LMTP_RELAY, virtual: "virtual", local: "local", smtp: `${mx.name}[${mx.ip}]:25` }[
    daemon
  ];
  if (remote && fate.status === "sent" && rng.chance(0.5))
    writer.say(
      timeline,
      0,
      tag,
      `Trusted TLS connection established to ${relay}: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)`,
    );
  const origTo = recipient.origTo === undefined ? "" : `orig_to=<${recipient.origTo}>, `;
  const dsn = fate.status === "sent" ? "2.0.0" : fate.dsn;
  const reply = fate.status === "sent" ? sentReply(writer, recipient) : fate.reply;
  writer.say(
    timeline,
    0,
    tag,
    `${queueId}: to=<${recipient.to}>, ${origTo}relay=${relay}, delay=${round(delay)}, ` +
      `delays=${round(beforeQmgr)}/0.01/${round(setup)}/${round(transmission)}, dsn=${dsn}, status=${fate.status} (${reply})`,
  );
}

function sentReply(writer: QueueWriter, recipient: Recipient): string {
  switch (recipient.route) {
    case "lmtp":
      return `250 2.0.0 <${recipient.to}> ${writer.rng.int(1e9, 9e9).toString(36)} Saved`;
    case "virtual":
      return "delivered to maildir";
    case "local":
      return "delivered to mailbox";
    case "smtp":
      return `250 2.0.0 Ok: queued as ${writer.nextQueueId()}`;
  }
}

/** bounce(8) queues a null-sender notification under a new queue ID and delivers it to the sender. */
function notifySender(writer: QueueWriter, timeline: Timeline, queueId: string, sender: string): void {
  const { rng } = writer;
  const notice = writer.nextQueueId();
  writer.say(
    timeline,
    rng.int(1, 30),
    `postfix/cleanup[${writer.poolPid("cleanup")}]`,
    `${notice}: message-id=<${notice}.bounce@${SERVER_NAME}>`,
  );
  writer.say(
    timeline,
    rng.int(1, 10),
    `postfix/bounce[${writer.poolPid("bounce")}]`,
    `${queueId}: sender non-delivery notification: ${notice}`,
  );
  const local = sender.endsWith("@example.org") || sender.endsWith("@example.net");
  queueMessage(writer, timeline, {
    queueId: notice,
    from: "",
    size: rng.int(2_000, 9_000),
    recipients: [
      {
        to: sender,
        route: local ? "lmtp" : "smtp",
        fate: { status: "sent" },
        mx: { name: `mx.${sender.split("@")[1]}`, ip: "203.0.113.250" },
      },
    ],
  });
}

function round(seconds: number): string {
  return String(Math.round(seconds * 100) / 100);
}
