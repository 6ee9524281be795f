/** SASL (SMTP AUTH) password attacks: fast, slow, distributed, and the one that got in. */
import type { EventFilter } from "../engine/filters.js";
import type { RuleDefinition } from "../engine/rule.js";

/**
 * Every line that shows a failed AUTH. The engine's session tracking (auth-sessions.ts) keeps one
 * session from counting twice and gives no weight to failures that tried no password (auth backend
 * unreachable, mechanism not offered).
 */
const AUTH_FAILURES: readonly EventFilter[] = [
  { kind: "sasl_auth_failed" },
  { kind: "disconnect", test: "authFailed" },
  { kind: "too_many_errors", test: "afterAuth" },
];

/**
 * A session that logs in after failing knew the password: its failures were typos (or a client
 * trying a stale password first), so they are taken back. Bots never log in; a guess that works
 * is auth_after_failures' business, and it sees the failures before they are taken back.
 */
export const LOGIN_SUCCEEDED: readonly EventFilter[] = [
  { kind: "client", test: "authenticatedLogin" },
  { kind: "disconnect" },
];

/** Facts weighted like the count, so `PLAIN (4), not logged (1)` adds up to 5 failures. */
export const MECHANISMS = {
  name: "mechanisms",
  top: "mechanism",
  weighted: true,
  missing: "not logged",
} as const;
const SERVICES = { name: "services", top: "service", weighted: true } as const;

const BLOCK_IP_REMEDIATION =
  "Block the address at the firewall or enable fail2ban's postfix-sasl jail; offer AUTH only on submission " +
  "(587) and smtps (465) with `smtpd_sasl_auth_enable = no` on port 25; if the attempted user names are real, " +
  "make sure their passwords are strong.";

export const saslBruteforce: RuleDefinition = {
  id: "sasl_bruteforce",
  description: "Repeated SASL authentication failures from one client (fail2ban postfix-sasl defaults).",
  reads: AUTH_FAILURES,
  forgiveOn: LOGIN_SUCCEEDED,
  forgiveWeight: "authForgiven",
  keys: ["clientIp", "clientNet64"],
  weight: "authFailures",
  facts: [MECHANISMS, SERVICES],
  // A key costs ~70 bytes until it nears the threshold: a million attacking addresses fit.
  defaults: { severity: "warning", windowSeconds: 600, threshold: 5, quietSeconds: 900, maxKeys: 1_000_000 },
  summary:
    "SASL brute force from {key}: {count:failed login} in {window} on {hosts} (mechanisms: {mechanisms})",
  remediation: BLOCK_IP_REMEDIATION,
};

export const saslSlowBruteforce: RuleDefinition = {
  ...saslBruteforce,
  id: "sasl_slow_bruteforce",
  description:
    "SASL failures from one client at a rate that stays under sasl_bruteforce's threshold, over hours.",
  yieldsTo: "sasl_bruteforce",
  defaults: {
    severity: "warning",
    windowSeconds: 6 * 3600,
    threshold: 20,
    quietSeconds: 6 * 3600,
    maxKeys: 1_000_000,
  },
  summary: "Slow SASL brute force from {key}: {count:failed login} in {window} on {hosts}",
  remediation: `${BLOCK_IP_REMEDIATION} A slow attack stays under fail2ban's 10 minute window: add a long-window jail (e.g. findtime = 6h).`,
};

export const saslSpray: RuleDefinition = {
  id: "sasl_spray",
  description:
    "Distributed SASL guessing: many client IPs failing in a window, overall and against one user name; many accounts failing from one network.",
  reads: AUTH_FAILURES,
  forgiveOn: LOGIN_SUCCEEDED,
  forgiveWeight: "authForgiven",
  keys: ["global", "saslUsername", "clientNetwork"],
  weight: "authFailures",
  distinct: "clientIp",
  // Per network: many accounts, few tries each, from few addresses.
  distinctByKey: { client_net: "sprayTarget" },
  thresholdOn: "distinct",
  facts: [MECHANISMS],
  defaults: {
    severity: "warning",
    windowSeconds: 3600,
    threshold: 30,
    thresholdByKey: { sasl_user: 5, client_net: 10 },
    quietSeconds: 3600,
  },
  summary:
    "Password spraying ({key}): {distinct:client IP} failed SASL logins in {window} ({events:failure}) on {hosts}",
  summaryByKey: {
    client_net:
      "Password spraying from {key}: {distinct:account} (or addresses, where no user name is logged) failed SASL logins in {window} ({events:failure}) on {hosts}",
  },
  remediation:
    "Per-IP blocking will not stop this: require strong passwords or per-user lockout in the SASL backend, " +
    "restrict AUTH to submission ports and known networks, and check the related user names for weak passwords.",
};

export const saslSlowSpray: RuleDefinition = {
  ...saslSpray,
  id: "sasl_slow_spray",
  description:
    "Password spraying too slow for sasl_spray's hour: many accounts (or addresses) failing over hours, overall and from one network.",
  keys: ["global", "clientNetwork"],
  distinct: "sprayTarget",
  distinctByKey: undefined,
  yieldsTo: "sasl_spray",
  defaults: {
    severity: "warning",
    windowSeconds: 6 * 3600,
    threshold: 60,
    thresholdByKey: { client_net: 15 },
    quietSeconds: 6 * 3600,
  },
  summary:
    "Slow password spraying ({key}): {distinct:account} (or addresses, where no user name is logged) failed SASL logins in {window} ({events:failure}) on {hosts}",
  summaryByKey: undefined,
};

/** The successful login's address against the user's history, for the alerts that fire on it. */
const LOGIN_FACT = [{ name: "login", field: "loginNovelty" }] as const;

export const authAfterFailures: RuleDefinition = {
  id: "auth_after_failures",
  description:
    "A successful SASL login from an address that just failed repeatedly, or for a user that just failed repeatedly from an address new to that user: a guessed password.",
  reads: AUTH_FAILURES,
  triggers: [{ kind: "client", test: "authenticatedLogin" }],
  // The user's own address logging in while someone elsewhere guesses is account_targeted's finding.
  keyTriggers: { saslUsername: [{ kind: "client", test: "loginFromUnknownAddress" }] },
  triggerFacts: LOGIN_FACT,
  forgiveOn: LOGIN_SUCCEEDED,
  forgiveWeight: "authForgiven",
  keys: ["clientIp", "clientNet64", "saslUsername"],
  weight: "authFailures",
  facts: [MECHANISMS],
  // Per address the bar is higher: behind one NAT several people mistype now and then.
  defaults: {
    severity: "critical",
    windowSeconds: 600,
    threshold: 3,
    thresholdByKey: { client_ip: 5, client_net: 5 },
    quietSeconds: 3600,
    maxKeys: 1_000_000,
  },
  summary:
    "Login succeeded for {key} after {count:failed attempt} in {window} on {hosts}: password likely guessed ({login})",
  remediation:
    "Treat the account as compromised: reset its password, revoke its sessions, check what it sent " +
    "(grep the sasl_username in the mail log), and block the client IP.",
};

export const accountTargeted: RuleDefinition = {
  id: "account_targeted",
  description:
    "Failed SASL logins for one user from addresses no one logs in from, while the user logs in from a usual address: the account is under attack, the password not (yet) guessed.",
  reads: [{ kind: "sasl_auth_failed", test: "failureFromStranger" }],
  triggers: [{ kind: "client", test: "loginFromKnownAddress" }],
  triggerFacts: LOGIN_FACT,
  forgiveOn: LOGIN_SUCCEEDED,
  forgiveWeight: "authForgiven",
  keys: ["saslUsername"],
  weight: "authFailures",
  facts: [MECHANISMS],
  defaults: { severity: "warning", windowSeconds: 600, threshold: 3, quietSeconds: 3600 },
  summary:
    "Account {key} is targeted: {count:failed login} in {window} from addresses it never logs in from, on {hosts}; " +
    "the user then logged in from {login}, so no sign the password was guessed",
  remediation:
    "Make sure the password is strong and unique (or require app passwords), block the client IPs listed, and " +
    "consider rate-limiting AUTH per user in the SASL backend.",
};
