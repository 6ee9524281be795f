/**
 * The ground truth of a labelled scenario: who acted, from which addresses, as which accounts, and
 * which rules an attack must raise. The recorder writes it as its actors act (never by reading the
 * log); the evaluator scores postwatch's alerts against it.
 */
import { z } from "zod";

export const Actor = z.object({
  name: z.string(),
  role: z.enum(["attacker", "benign"]),
  /** What the actor did, in a sentence. */
  does: z.string(),
  /** The client addresses its connections came from. */
  clientIps: z.array(z.string()),
  /** The accounts it logged in as (with the right password). */
  saslUsers: z.array(z.string()),
  /** Attackers: the rules that must fire on it. */
  expect: z.array(z.string()),
  /** The driver's clock before its first action of the last phase (the day scored). */
  firstActionAt: z.string().optional(),
  /** Attackers: the driver's clock once the evidence its rules need was complete. */
  evidenceCompleteAt: z.string().optional(),
});
export type Actor = z.infer<typeof Actor>;

export const Phase = z.object({
  name: z.string(),
  /** Lines of the log in this phase (phases are consecutive). */
  lines: z.number().int().nonnegative(),
  /**
   * Seconds added to every timestamp of the phase when the log was written: an earlier day's
   * traffic, recorded minutes before the scored day, moved back whole. Intervals within a phase are
   * never changed.
   */
  shiftedSeconds: z.number().int(),
});

export const Scenario = z.object({
  name: z.string(),
  title: z.string(),
  source: z.enum(["recorded", "generated"]),
  /** For recorded scenarios: the Postfix and rsyslog that wrote the log. */
  recordedWith: z.string(),
  phases: z.array(Phase),
  actors: z.array(Actor),
});
export type Scenario = z.infer<typeof Scenario>;
