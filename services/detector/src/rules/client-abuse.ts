/**
 * Client abuse: what fail2ban's postfix filters and CrowdSec's postfix scenarios ban for, per
 * client address and per network (/24, IPv6 /48). Nothing got through, so these are `info`:
 * metrics, the alert stream and the generic webhook, without paging anyone. The signals are named
 * in engine/client-abuse.ts.
 */
import { z } from "zod";
import type { RuleDefinition } from "../engine/rule.js";
import { LOGIN_SUCCEEDED, MECHANISMS } from "./sasl.js";

/** Per address, and per network counting the offending addresses (one address is not a network). */
const PER_CLIENT_AND_NETWORK = {
  keys: ["clientIp", "clientNetwork"],
  distinctByKey: { client_net: "clientIp" },
} as const satisfies Partial<RuleDefinition>;

/** What client_rejects and client_protocol_abuse share: signals named. */
const PER_CLIENT = {
  ...PER_CLIENT_AND_NETWORK,
  weight: "one",
  facts: [{ name: "signals", top: "abuseSignal" }],
} as const satisfies Partial<RuleDefinition>;

const hourly = (threshold: number, perNetwork: number) => ({
  severity: "info" as const,
  windowSeconds: 3600,
  threshold,
  thresholdByKey: { client_net: perNetwork },
  quietSeconds: 3600,
});

const BLOCK_REMEDIATION =
  "Nothing got through. If it persists, block the address (fail2ban's postfix jail, CrowdSec's postfix " +
  "collection), or make postscreen drop it earlier (`postscreen_greet_action = enforce`, " +
  "`postscreen_dnsbl_sites`).";

export const clientRejects: RuleDefinition = {
  id: "client_rejects",
  description:
    "A client refused repeatedly: helo, sender, client, blocklist, policy and relay rejects, too many errors, lost connection after AUTH, postscreen hangups, rate limits.",
  reads: [
    { kind: "reject", test: "refusedClient" },
    { kind: "too_many_errors", test: "clientError" },
    { kind: "lost_connection", test: "lostAfterAuth" },
    { kind: "postscreen", test: "postscreenRefusal" },
    { kind: "warning", test: "warningRefusal" },
  ],
  ...PER_CLIENT,
  defaults: hourly(2, 10),
  summary: "Client {key} refused repeatedly: {count:refusal} in {window} on {hosts} ({signals})",
  remediation: BLOCK_REMEDIATION,
};

export const clientProtocolAbuse: RuleDefinition = {
  id: "client_protocol_abuse",
  description:
    "A client doing what no mail client or server does: non-SMTP commands, talking before the greeting, bare LF line ends, unauthorised pipelining, command limits.",
  reads: [
    { kind: "warning", test: "protocolViolation" },
    { kind: "postscreen", test: "postscreenViolation" },
  ],
  ...PER_CLIENT,
  defaults: hourly(1, 3),
  summary: "Client {key} broke the SMTP protocol: {count:violation} in {window} on {hosts} ({signals})",
  remediation: BLOCK_REMEDIATION,
};

export const clientAuthFailures: RuleDefinition = {
  id: "client_auth_failures",
  description:
    "SASL failures from an address no one has logged in from, on names that are no account here: a few guesses, below sasl_bruteforce's bar (CrowdSec's slow SASL scenario).",
  reads: [
    { kind: "sasl_auth_failed", test: "strangerFailureOnNoAccount" },
    { kind: "disconnect", test: "disconnectFromStranger" },
  ],
  forgiveOn: LOGIN_SUCCEEDED,
  forgiveWeight: "authForgiven",
  // Per address only: many addresses of one network failing is sasl_spray's.
  keys: ["clientIp"],
  // A million addresses guessing twice each must stay a few bytes apiece: the alert shows the last.
  samples: 1,
  weight: "authFailures",
  facts: [MECHANISMS],
  defaults: {
    severity: "info",
    windowSeconds: 3600,
    threshold: 3,
    quietSeconds: 3600,
    maxKeys: 1_000_000,
  },
  summary:
    "Failed SASL logins from {key}, where no one logs in: {count:failure} in {window} on {hosts} (mechanisms: {mechanisms})",
  remediation: BLOCK_REMEDIATION,
};

/**
 * Names wordlist bots try and real users do not log in as. A name that has logged in successfully
 * here is a real account and never counts (login history), so `support` or `admin` as real
 * logins stay quiet once seen. `nonexistent*` and `invalid*`: probes for whether the server
 * answers unknown users differently from wrong passwords.
 */
export const DEFAULT_HONEYPOT_USERS = [
  "admin",
  "administrator",
  "root",
  "postmaster",
  "hostmaster",
  "webmaster",
  "abuse",
  "support",
  "test",
  "teste",
  "test1",
  "testing",
  "tester",
  "guest",
  "demo",
  "user",
  "billing",
  "monitor",
  "monitoring",
  "sysadmin",
  "noreply",
  "no-reply",
  "nobody",
  "mailer-daemon",
  "www-data",
  "oracle",
  "nonexistent*",
  "invalid*",
];

export const honeypotLogin: RuleDefinition = {
  id: "honeypot_login",
  description:
    "A SASL login attempt on a user name from the honeypot list (admin, test, postmaster, ...) that has never logged in here.",
  reads: [
    {
      kind: "sasl_auth_failed",
      test: "failureOnUnknownUser",
      listed: { field: "saslLocalPart", in: "honeypotUsers" },
    },
  ],
  params: { honeypotUsers: z.array(z.string().min(1)).default(DEFAULT_HONEYPOT_USERS) },
  ...PER_CLIENT_AND_NETWORK,
  weight: "one",
  facts: [{ name: "users", top: "saslUsername" }],
  defaults: hourly(1, 3),
  summary:
    "Login attempt on honeypot user names from {key}: {count:attempt} in {window} on {hosts} ({users})",
  remediation:
    "No real user logs in with these names: block the address. If one of them is a real login here, remove it " +
    'from the list: `DETECTOR_RULES=\'{"honeypot_login":{"honeypotUsers":["admin","test"]}}\'`.',
};
