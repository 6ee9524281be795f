/** What our own outbound mail does to the world: compromised senders, reputation trouble, backscatter. */
import type { RuleDefinition } from "../engine/rule.js";
import { senderBaseline } from "./sender-baseline.js";
import { trafficShare } from "./traffic-share.js";

/**
 * What compromised_sender and local_sender_flood share: a sender's recipients in the window, over how
 * many domains, against the limits and the sender's own baseline (sender-baseline.ts).
 */
const SENDER_VOLUME = {
  weight: "recipients",
  distinct: "recipientDomain",
  extension: senderBaseline,
  defaults: { severity: "critical", windowSeconds: 3600, threshold: 300, quietSeconds: 3600 },
} as const satisfies Partial<RuleDefinition>;

const DOMAINS_AND_REJECTIONS = [
  { name: "topRecipientDomains", top: "recipientDomain" },
  { name: "remoteRejections", top: "remoteRejection", limit: 3 },
] as const satisfies RuleDefinition["facts"];

export const compromisedSender: RuleDefinition = {
  ...SENDER_VOLUME,
  id: "compromised_sender",
  description:
    "A SASL user whose sending jumps past limits and its own baseline, or is abnormal for it and corroborated by remote content rejections, a new address, several networks at once or bounces.",
  reads: [{ kind: "message", test: "authenticatedMessage" }],
  keys: ["saslUsername"],
  facts: DOMAINS_AND_REJECTIONS,
  summary:
    "SASL user {key} looks compromised: {count:recipient} in {messages:message} over {distinct:domain} in {window} " +
    "(baseline {baselineRecipients}), {bouncedRecipients} bounced, {deferredRecipients} deferred; why: {evidence}; " +
    "top domains: {topRecipientDomains}; remote rejections: {remoteRejections}",
  remediation:
    "Disable or reset the account's password now (and revoke app passwords), purge its queued mail " +
    "(`postqueue -p`, `postsuper -d`), block the client IPs listed, and check blocklists for your sending IPs. " +
    "Prevent a repeat with per-user rate limits (a policy service) and `smtpd_sender_login_maps` with reject_sender_login_mismatch.",
};

/** compromised_sender's twin for mail that never logged in: a hacked web application's PHP mail(). */
export const localSenderFlood: RuleDefinition = {
  ...SENDER_VOLUME,
  id: "local_sender_flood",
  description:
    "A local user (by uid) whose mail handed to sendmail jumps past the same limits and baseline as compromised_sender's: a hacked web application's mail().",
  reads: [{ kind: "message", test: "locallySubmittedMessage" }],
  keys: ["localUid"],
  facts: [{ name: "senders", top: "sender" }, ...DOMAINS_AND_REJECTIONS],
  summary:
    "Local uid {key} is sending mass mail through sendmail: {count:recipient} in {messages:message} over {distinct:domain} in {window} " +
    "(baseline {baselineRecipients}), {bouncedRecipients} bounced; envelope senders: {senders}; top domains: {topRecipientDomains}; " +
    "remote rejections: {remoteRejections}",
  remediation:
    "Find the process: the web server's uid (www-data, apache, a hosting account) means a web application's mail(). " +
    "`postqueue -p` and `postcat -q QUEUEID` show the mail (PHP's `mail.add_x_header = On` names the script in X-PHP-Originating-Script); " +
    "take the script or site offline, purge its queued mail (`postsuper -d`), and limit who may submit with `authorized_submit_users`.",
};

export const outboundBlocked: RuleDefinition = {
  id: "outbound_blocked",
  description: "Remote servers rate-limit or blocklist our mail: a reputation alarm.",
  reads: [{ kind: "delivery", test: "reputationBlock" }],
  keys: ["host"],
  weight: "one",
  facts: [
    { name: "remoteRejections", top: "remoteRejection", limit: 3 },
    { name: "destinations", top: "destination" },
  ],
  defaults: { severity: "warning", windowSeconds: 3600, threshold: 3, quietSeconds: 6 * 3600 },
  summary:
    "Remote servers are blocking or rate-limiting mail from {key}: {count:refusal} in {window} ({remoteRejections})",
  remediation:
    "Look up the sending IP on the blocklists named (Spamhaus, Microsoft SNDS, Google Postmaster Tools), find what " +
    "sent the mail that got it listed (see compromised_sender and the queue), fix SPF/DKIM/DMARC and PTR, then request delisting.",
};

export const bounceStorm: RuleDefinition = {
  id: "bounce_storm",
  description: "Null-sender (bounce) messages out of proportion to a host's normal traffic: backscatter.",
  reads: [{ kind: "message", test: "outboundMessage" }],
  keys: ["host"],
  weight: "nullSenderMessage",
  extension: trafficShare,
  defaults: { severity: "warning", windowSeconds: 3600, threshold: 50, quietSeconds: 3600 },
  summary: "Bounce storm on {key}: {count} of {messages:message} in {window} have a null sender",
  remediation:
    "Reject unknown recipients at SMTP time instead of bouncing later (reject_unlisted_recipient, recipient " +
    "verification for relay domains), reject spoofed senders (SPF, postscreen), and look for a compromised sender behind the bounces.",
};
