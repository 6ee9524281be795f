/** The server's own state: weak TLS, credentials in the logs, daemons failing. */
import type { RuleDefinition } from "../engine/rule.js";

const DAY = 86_400;

export const weakTls: RuleDefinition = {
  id: "weak_tls",
  description:
    "Sessions negotiated with SSLv3/TLSv1/TLSv1.1 or RC4/3DES/NULL/EXPORT ciphers, once per host and cipher per day.",
  reads: [{ kind: "tls", test: "weakTls" }],
  keys: ["hostCipher"],
  weight: "one",
  facts: [{ name: "peers", top: "tlsPeer" }],
  defaults: { severity: "warning", windowSeconds: DAY, threshold: 1, quietSeconds: DAY },
  summary: "Weak TLS accepted on {key} ({count:session} in {window}; peers: {peers})",
  remediation:
    "Refuse legacy protocols and ciphers: `smtpd_tls_protocols = >=TLSv1.2`, `smtpd_tls_mandatory_protocols = >=TLSv1.2`, " +
    "`smtpd_tls_exclude_ciphers = aNULL, eNULL, EXPORT, RC4, 3DES, MD5` (same for smtp_tls_* outbound), and remove " +
    "`+RC4` from any `tls_*_cipherlist` override.",
};

export const credentialsInLogs: RuleDefinition = {
  id: "credentials_in_logs",
  description: "smtpd session or TLS debug logging is on: AUTH payloads (passwords) end up in the mail log.",
  reads: [{ kind: "debug" }],
  keys: ["host"],
  weight: "one",
  facts: [{ name: "settings", top: "debugSetting" }],
  defaults: { severity: "critical", windowSeconds: DAY, threshold: 1, quietSeconds: DAY },
  summary:
    "Debug logging on {key} writes SMTP sessions to the log, AUTH passwords included ({count:debug line} in {window}; from: {settings})",
  remediation:
    "Turn it back: `smtpd_tls_loglevel = 0` (or 1), empty `debug_peer_list`, no `-v` on smtpd in master.cf; " +
    "then `postfix reload`. Treat passwords of the users listed as exposed: rotate them and scrub or restrict old logs.",
};

export const mailSystemError: RuleDefinition = {
  id: "mail_system_error",
  description:
    "Postfix itself failing: fatal and panic errors, daemons crashing or failing to start, an unreachable policy server, milter or SASL backend, a deferred mail pile-up.",
  reads: [{ kind: "fatal" }, { kind: "panic" }, { kind: "warning", test: "systemFailure" }],
  keys: ["host"],
  weight: "one",
  facts: [{ name: "errors", top: "diagnostic", limit: 3 }],
  defaults: { severity: "critical", windowSeconds: 3600, threshold: 1, quietSeconds: 3600 },
  summary: "Postfix on {key} is failing: {errors}",
  remediation:
    "Read the full lines around these in the mail log; `postfix check` finds configuration and permission errors, " +
    "`postqueue -p | tail -1` shows the queue size; a daemon killed by signal 11 or 6 is a crash worth a bug report.",
};
