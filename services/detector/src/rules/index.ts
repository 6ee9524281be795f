/** The rule catalogue and loading with config overrides. Rule ids are the contract. */
import { type CompiledRule, compileRule, RuleConfigError, type RuleDefinition } from "../engine/rule.js";
import { clientAuthFailures, clientProtocolAbuse, clientRejects, honeypotLogin } from "./client-abuse.js";
import { bounceStorm, compromisedSender, localSenderFlood, outboundBlocked } from "./outbound.js";
import {
  accountTargeted,
  authAfterFailures,
  saslBruteforce,
  saslSlowBruteforce,
  saslSlowSpray,
  saslSpray,
} from "./sasl.js";
import { credentialsInLogs, mailSystemError, weakTls } from "./server-config.js";
import { recipientHarvest, relayProbe } from "./smtpd-rejects.js";

export const RULE_DEFINITIONS: readonly RuleDefinition[] = [
  saslBruteforce,
  saslSlowBruteforce,
  saslSpray,
  saslSlowSpray,
  authAfterFailures,
  accountTargeted,
  compromisedSender,
  localSenderFlood,
  outboundBlocked,
  bounceStorm,
  relayProbe,
  recipientHarvest,
  clientRejects,
  clientProtocolAbuse,
  clientAuthFailures,
  honeypotLogin,
  weakTls,
  credentialsInLogs,
  mailSystemError,
];

/**
 * Compiles every rule with `overrides` (`{ "sasl_bruteforce": { "threshold": 10 } }`) merged onto its
 * defaults. Throws RuleConfigError listing every problem (unknown rule, unknown or invalid field).
 */
export function loadRules(
  overrides: unknown = {},
  definitions: readonly RuleDefinition[] = RULE_DEFINITIONS,
): CompiledRule[] {
  if (typeof overrides !== "object" || overrides === null || Array.isArray(overrides))
    throw new RuleConfigError(["rule overrides must be an object keyed by rule id"]);
  const entries = overrides as Record<string, unknown>;
  const known = new Set(definitions.map((d) => d.id));
  const issues: string[] = [];
  for (const id of Object.keys(entries))
    if (!known.has(id)) issues.push(`rule ${id}: unknown rule (known: ${[...known].join(", ")})`);
  for (const definition of definitions)
    if (definition.yieldsTo !== undefined && !known.has(definition.yieldsTo))
      issues.push(`rule ${definition.id}: yieldsTo: unknown rule ${definition.yieldsTo}`);
  const rules: CompiledRule[] = [];
  for (const definition of definitions) {
    const override = entries[definition.id] ?? {};
    if (typeof override !== "object" || override === null || Array.isArray(override)) {
      issues.push(`rule ${definition.id}: settings must be an object`);
      continue;
    }
    try {
      rules.push(compileRule(definition, override as Record<string, unknown>));
    } catch (error) {
      if (!(error instanceof RuleConfigError)) throw error;
      issues.push(...error.issues);
    }
  }
  if (issues.length > 0) throw new RuleConfigError(issues);
  return rules;
}
