/**
 * Sharing detection between replicas of DETECTOR_STAGE=all. Correlation needs every line of a mail
 * server in order and rule keys (an attacker IP, a SASL user) cut across mail servers, so no split
 * of the event stream keeps both whole. Instead every replica reads the whole stream and correlates
 * it, and
 * each rule key belongs to exactly one replica, by hash: only the owner counts it, keeps its state
 * and alerts on it. N replicas therefore produce the alerts one would, with rule memory and rule
 * CPU divided by N. (The partitioned stages split both, with facts between them: stages/.)
 */
import type { AlertKey } from "../../../shared/src/contracts/alerts.js";
import { fnv1a } from "../../../shared/src/contracts/partitions.js";

export interface ReplicaSlot {
  index: number;
  count: number;
}

/** Which of `partitions` a rule key belongs to: the replica that owns it, or its fact partition. */
export function keyPartition(type: AlertKey["type"], value: string, partitions: number): number {
  return fnv1a(`${type}\u0000${value}`) % partitions;
}

export function ownsKey(slot: ReplicaSlot, type: AlertKey["type"], value: string): boolean {
  return slot.count === 1 || keyPartition(type, value, slot.count) === slot.index;
}

/** Durable consumer name: each replica keeps its own position in the event stream. */
export const replicaDurable = (base: string, slot: ReplicaSlot) =>
  slot.count === 1 ? base : `${base}-${slot.index}-of-${slot.count}`;
