/**
 * What each destination has taken, kept in a JetStream key-value bucket so that it outlives the
 * alerter: after a crash, the alerts JetStream hands out again skip the destinations that already
 * have them, and a resolved notice goes only to a destination that took its firing alert. One key
 * per destination and alert notification; the bucket forgets a key after ALERTER_DEDUP_SECONDS.
 */
import { createHash } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import { type NatsConnection, nanos } from "@nats-io/transport-node";
import { type Alert, alertIdentity } from "../../../shared/src/contracts/alerts.js";
import { checkReplicasSupported, withReplicasNamed } from "../../../shared/src/runtime/nats.js";

export const DELIVERY_BUCKET = "postwatch-alerter-deliveries";

type Notice = Pick<Alert, "fingerprint" | "state" | "startsAt">;

export interface DeliveryLog {
  /** Whether `destination` took this notification (fingerprint, state, start). */
  has(destination: string, notice: Notice): Promise<boolean>;
  record(destination: string, notices: readonly Notice[]): Promise<void>;
}

/**
 * `<destination>.<hash of the notification's identity>`: KV keys allow few characters, and a
 * fingerprint or a start time from a foreign publisher could hold any.
 */
export const deliveryKey = (destination: string, notice: Notice): string =>
  `${destination}.${createHash("sha256").update(alertIdentity(notice)).digest("hex").slice(0, 40)}`;

/** The bucket is a stream like the others: `replicas` copies of it (NATS_STREAM_REPLICAS). */
export async function openDeliveryLog(
  connection: NatsConnection,
  rememberMs: number,
  replicas: number,
): Promise<DeliveryLog> {
  checkReplicasSupported(connection, replicas);
  const stream = `KV_${DELIVERY_BUCKET}`;
  const kv: KV = await withReplicasNamed(stream, replicas, async () => {
    const bucket = await new Kvm(connection).create(DELIVERY_BUCKET, {
      history: 1,
      ttl: rememberMs,
      replicas,
    });
    // create() opens a bucket that exists as it was made: a changed ALERTER_DEDUP_SECONDS or
    // NATS_STREAM_REPLICAS applies here.
    const jsm = await jetstreamManager(connection);
    const { config } = await jsm.streams.info(stream);
    if (config.max_age !== nanos(rememberMs) || config.num_replicas !== replicas)
      await jsm.streams.update(stream, { max_age: nanos(rememberMs), num_replicas: replicas });
    return bucket;
  });
  const at = new TextEncoder();
  return {
    async has(destination, notice) {
      const entry = await kv.get(deliveryKey(destination, notice));
      return entry !== null && entry.operation === "PUT";
    },
    async record(destination, notices) {
      const when = at.encode(new Date().toISOString());
      await Promise.all(notices.map((notice) => kv.put(deliveryKey(destination, notice), when)));
    },
  };
}
