/**
 * Where a fact goes when the evaluation stage is partitioned: to the partition of every rule key it
 * can count, trigger or forgive under (keyPartition of each key field's value, for every enabled
 * rule that reads its kind), so each partition's engine sees every fact of the keys it owns. A
 * successful SASL login goes to every partition: each keeps the whole login history, which
 * failures and mail of any key consult (a user's usual addresses, whether an address ever logged in).
 */
import type { AlertKey } from "../../../../shared/src/contracts/alerts.js";
import type { EventKind, PostfixEvent } from "../../../../shared/src/contracts/events.js";
import { KEY_FIELDS, type KeyField, textValues } from "../engine/fields.js";
import type { CompiledRule } from "../engine/rule.js";
import { type KeyOwnership, ownsEveryKey } from "../engine/rule-tracker.js";
import { keyPartition } from "../partition.js";

interface KeyRoute {
  field: KeyField;
  type: AlertKey["type"];
}

export class FactRouter {
  /** Per event kind, the key fields some enabled rule counts, triggers or forgives it under. */
  private readonly keysByKind = new Map<EventKind, KeyRoute[]>();
  private readonly every: readonly number[];

  constructor(
    rules: readonly CompiledRule[],
    readonly partitions: number,
  ) {
    if (!Number.isInteger(partitions) || partitions < 1)
      throw new RangeError(`fact partitions must be a whole number from 1, not ${partitions}`);
    this.every = Array.from({ length: partitions }, (_, q) => q);
    for (const rule of rules.filter((r) => r.settings.enabled)) {
      const triggerKinds = rule.keyFields.flatMap((field) => [...(rule.triggersFor(field)?.keys() ?? [])]);
      const kinds = new Set([...rule.counts.keys(), ...triggerKinds, ...(rule.forgives?.keys() ?? [])]);
      for (const kind of kinds) {
        const routes = this.keysByKind.get(kind) ?? [];
        for (const field of rule.keyFields)
          if (!routes.some((r) => r.field === field)) routes.push({ field, type: KEY_FIELDS[field] });
        this.keysByKind.set(kind, routes);
      }
    }
  }

  /** The fact partitions an event's fact goes to, ascending; none when no rule reads it. */
  partitionsOf(event: PostfixEvent): readonly number[] {
    if (event.kind === "client" && event.saslUsername) return this.every;
    const routes = this.keysByKind.get(event.kind);
    if (routes === undefined) return [];
    const partitions: number[] = [];
    for (const { field, type } of routes)
      for (const value of textValues(field, event)) {
        const partition = keyPartition(type, value, this.partitions);
        if (!partitions.includes(partition)) partitions.push(partition);
      }
    return partitions.sort((a, b) => a - b);
  }

  /** The keys the evaluation stage of `partition` owns: exactly those whose facts are routed to it. */
  ownership(partition: number): KeyOwnership {
    if (this.partitions === 1) return ownsEveryKey;
    return (type, value) => keyPartition(type, value, this.partitions) === partition;
  }
}
