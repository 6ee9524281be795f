/**
 * Sharing detection between replicas. Correlation needs every line of a mail server in order and
 * rule keys (an attacker IP, a SASL user) cut across mail servers, so no split of the event stream
 * keeps both whole. Instead every replica reads the whole stream and correlates it (cheap), and
 * each rule key belongs to exactly one replica, by hash: only the owner counts it, keeps its state
 * and alerts on it. N replicas therefore produce the alerts one would, with rule memory and rule
 * CPU divided by N.
 */
import type { AlertKey } from "../../../shared/src/contracts/alerts.js";
import { fnv1a } from "../../../shared/src/contracts/partitions.js";

export interface ReplicaSlot {
  index: number;
  count: number;
}

export function ownsKey(slot: ReplicaSlot, type: AlertKey["type"], value: string): boolean {
  return slot.count === 1 || fnv1a(`${type}\u0000${value}`) % slot.count === slot.index;
}

/** Durable consumer name: each replica keeps its own position in the event stream. */
export const replicaDurable = (base: string, slot: ReplicaSlot) =>
  slot.count === 1 ? base : `${base}-${slot.index}-of-${slot.count}`;
