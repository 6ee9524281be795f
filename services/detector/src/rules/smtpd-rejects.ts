/** Clients probing us: open-relay tests and recipient harvesting. */
import type { RuleDefinition } from "../engine/rule.js";

export const relayProbe: RuleDefinition = {
  id: "relay_probe",
  description: "`Relay access denied` rejects per client: someone testing for an open relay.",
  reads: [{ kind: "reject", equals: { category: "relay_denied" } }],
  keys: ["clientIp", "clientNet64"],
  weight: "one",
  distinct: "recipientDomain",
  facts: [{ name: "rejectedRecipients", top: "rejectedRecipient" }],
  defaults: { severity: "info", windowSeconds: 3600, threshold: 5, quietSeconds: 3600 },
  summary: "Relay probing from {key}: {count:relay attempt} in {window} to {distinct:domain} on {hosts}",
  remediation:
    "Nothing got through (the rejects prove relaying is closed); block the address if it persists, and keep " +
    "`smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination`.",
};

export const recipientHarvest: RuleDefinition = {
  id: "recipient_harvest",
  description: "Unknown-recipient rejects per client, counting distinct recipients: directory harvesting.",
  reads: [{ kind: "reject", equals: { category: "unknown_recipient" } }],
  keys: ["clientIp", "clientNet64"],
  weight: "one",
  distinct: "rejectedRecipient",
  thresholdOn: "distinct",
  facts: [{ name: "rejectedRecipients", top: "rejectedRecipient" }],
  defaults: { severity: "warning", windowSeconds: 3600, threshold: 10, quietSeconds: 3600 },
  summary: "Recipient harvesting from {key}: {distinct:unknown recipient} tried in {window} on {hosts}",
  remediation:
    "Block the address; slow harvesters with `smtpd_hard_error_limit`/`smtpd_error_sleep_time` and postscreen, " +
    "and make sure unknown recipients are rejected the same way whether or not the domain exists.",
};
