/**
 * A named, typed hook for rules that need more than counting (a per-key baseline, a share of
 * traffic). It owns a little extra per-key state, sees every event the rule reads, and replaces
 * the plain `measure >= threshold` decision. It never sees other keys or the clock.
 */
import type { z } from "zod";
import type { Alert } from "../../../../shared/src/contracts/alerts.js";
import type { PostfixEvent } from "../../../../shared/src/contracts/events.js";
import type { EventContext } from "./fields.js";

export type Facts = Alert["facts"];

/** What the generic part of the engine knows about a key when a decision is due. */
export interface KeyMeasures {
  atMs: number;
  /** Weighted events in the window. */
  count: number;
  /** Distinct values of the rule's distinct field in the window (0 when it has none). */
  distinct: number;
  threshold: number;
}

export interface ExtensionState {
  observe(event: PostfixEvent, context: EventContext, atMs: number): void;
  fires(measures: KeyMeasures): boolean;
  facts(atMs: number): Facts;
}

export interface BoundExtension {
  newState(): ExtensionState;
  /** How long an idle key must be kept for this hook's memory (e.g. a baseline) to mean anything. */
  retentionMs: number;
}

export interface RuleExtension<Shape extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  /** Extra settings, each with a default; they sit beside the common ones and are overridable alike. */
  params: Shape;
  /** Fact names this hook adds, so summary templates can be checked at load. */
  factNames: readonly string[];
  bind(params: z.infer<z.ZodObject<Shape>>, windowMs: number): BoundExtension;
}

export function defineExtension<Shape extends z.ZodRawShape>(extension: RuleExtension<Shape>): RuleExtension {
  return extension as unknown as RuleExtension;
}
