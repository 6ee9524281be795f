/**
 * Label values for Postfix's series, from fixed vocabularies plus `other`. Every value comes from a
 * log line, and anyone who can send syslog can write any line: 20,000 made-up daemons or ciphers
 * would otherwise be 20,000 series each. Pure functions, and two labellers whose state is their own.
 */
import type { PostfixEvent } from "../../../shared/src/contracts/events.js";
import { REJECT_ACTIONS } from "../../../shared/src/postfix/reject.js";

export const OTHER = "other";

/** The label names a value can be folded under, for the count of folds. */
export type FoldedLabel =
  | "host"
  | "daemon"
  | "service"
  | "mechanism"
  | "action"
  | "stage"
  | "code"
  | "dsn_class"
  | "protocol"
  | "cipher"
  | "postscreen_action";

export type OnFold = (label: FoldedLabel) => void;

/** Postfix's daemons and commands as they name themselves in the syslog tag (postfix(1), master(5)). */
const DAEMONS = [
  "anvil",
  "bounce",
  "cleanup",
  "discard",
  "dnsblog",
  "error",
  "flush",
  "lmtp",
  "local",
  "master",
  "nqmgr",
  "oqmgr",
  "pickup",
  "pipe",
  "postalias",
  "postcat",
  "postconf",
  "postdrop",
  "postfix",
  "postfix-script",
  "postkick",
  "postlock",
  "postlog",
  "postmap",
  "postmulti",
  "postqueue",
  "postscreen",
  "postsuper",
  "proxymap",
  "qmgr",
  "qmqpd",
  "retry",
  "scache",
  "sendmail",
  "showq",
  "smtp",
  "smtpd",
  "spawn",
  "tlsmgr",
  "tlsproxy",
  "trivial-rewrite",
  "verify",
  "virtual",
  "unknown",
];

/** SASL mechanisms (IANA registry, the ones mail clients use). */
const MECHANISMS = [
  "PLAIN",
  "LOGIN",
  "CRAM-MD5",
  "DIGEST-MD5",
  "NTLM",
  "GSSAPI",
  "GS2-KRB5",
  "GSS-SPNEGO",
  "SCRAM-SHA-1",
  "SCRAM-SHA-1-PLUS",
  "SCRAM-SHA-256",
  "SCRAM-SHA-256-PLUS",
  "SCRAM-SHA-512",
  "XOAUTH2",
  "OAUTHBEARER",
  "ANONYMOUS",
  "EXTERNAL",
  "OTP",
  "SRP",
  "KERBEROS_V4",
];

/** smtpd's session states (`lost connection after RCPT`) and cleanup's check stages, upper-cased. */
const STAGES = [
  "CONNECT",
  "HELO",
  "EHLO",
  "STARTTLS",
  "AUTH",
  "MAIL",
  "RCPT",
  "DATA",
  "BDAT",
  "END-OF-MESSAGE",
  "RSET",
  "NOOP",
  "VRFY",
  "ETRN",
  "QUIT",
  "XCLIENT",
  "XFORWARD",
  "UNKNOWN",
  "HEADER",
  "BODY",
  "MIME-HEADER",
  "NESTED-HEADER",
  "CONTENT",
];

/** The SMTP replies Postfix rejects with (RFC 5321, 3463); none when the line carries no code. */
const REJECT_CODES = [
  "",
  "421",
  "450",
  "451",
  "452",
  "454",
  "500",
  "501",
  "502",
  "503",
  "504",
  "521",
  "530",
  "535",
  "550",
  "551",
  "552",
  "553",
  "554",
  "555",
];

const PROTOCOLS = ["SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];

/** postscreen's and tlsproxy's verdicts (postscreen(8)), old and new allow/deny names. */
const POSTSCREEN_ACTIONS = [
  "CONNECT",
  "PASS NEW",
  "PASS OLD",
  "PREGREET",
  "DNSBL",
  "HANGUP",
  "DISCONNECT",
  "NOQUEUE",
  "COMMAND TIME LIMIT",
  "COMMAND COUNT LIMIT",
  "COMMAND LENGTH LIMIT",
  "COMMAND PIPELINING",
  "NON-SMTP COMMAND",
  "BARE NEWLINE",
  "WHITELISTED",
  "ALLOWLISTED",
  "BLACKLISTED",
  "DENYLISTED",
  "WHITELIST VETO",
  "ALLOWLIST VETO",
  "BDAT",
  "DATA",
];

/** Services always labelled: Postfix's stock master.cf entries. */
const STOCK_SERVICES = ["smtp", "submission", "smtps", "submissions"];

/** Bulk cipher and mode, first match wins: OpenSSL and IANA names both (`ECDHE-RSA-AES256-GCM-SHA384`, `TLS_AES_128_GCM_SHA256`). */
const CIPHER_FAMILIES: readonly (readonly [RegExp, string])[] = [
  [/CHACHA20/, "CHACHA20-POLY1305"],
  [/AES[-_]?256[-_]GCM/, "AES-256-GCM"],
  [/AES[-_]?128[-_]GCM|^AES-GCM/, "AES-128-GCM"],
  [/AES[-_]?(?:128|256)?[-_]?CCM/, "AES-CCM"],
  [/AES[-_]?256/, "AES-256-CBC"],
  [/AES/, "AES-128-CBC"],
  [/CAMELLIA/, "CAMELLIA"],
  [/ARIA/, "ARIA"],
  [/SEED/, "SEED"],
  [/DES-CBC3|3DES/, "3DES"],
  [/DES/, "DES"],
  [/RC4/, "RC4"],
  [/RC2/, "RC2"],
  [/IDEA/, "IDEA"],
  [/NULL/, "NULL"],
];

/** A labeller over a fixed vocabulary: the value itself when known, else `other` (counted). */
function vocabulary(label: FoldedLabel, values: readonly string[], onFold: OnFold) {
  const known = new Set(values);
  return (value: string): string => {
    if (known.has(value)) return value;
    onFold(label);
    return OTHER;
  };
}

export function cipherFamily(cipher: string): string | undefined {
  const name = cipher.toUpperCase();
  return CIPHER_FAMILIES.find(([pattern]) => pattern.test(name))?.[1];
}

/** At most this many services beyond the stock ones get their own label (first come). */
export const MAX_EXTRA_SERVICES = 16;

export function createLabellers(options: { hosts: HostLabels; onFold: OnFold }) {
  const { onFold } = options;
  const extraServices = new Set<string>();
  const stockServices = new Set(STOCK_SERVICES);
  return {
    host: (host: string) => options.hosts.label(host),
    daemon: vocabulary("daemon", DAEMONS, onFold),
    mechanism: vocabulary("mechanism", MECHANISMS, onFold),
    action: vocabulary("action", [...REJECT_ACTIONS], onFold),
    stage: vocabulary("stage", STAGES, onFold),
    code: vocabulary("code", REJECT_CODES, onFold),
    protocol: vocabulary("protocol", PROTOCOLS, onFold),
    postscreenAction: vocabulary("postscreen_action", POSTSCREEN_ACTIONS, onFold),
    dsnClass(dsn: string): string {
      const first = dsn.charAt(0);
      if (first === "2" || first === "4" || first === "5") return `${first}.x.x`;
      onFold("dsn_class");
      return OTHER;
    },
    cipher(cipher: string): string {
      const family = cipherFamily(cipher);
      if (family) return family;
      onFold("cipher");
      return OTHER;
    },
    service(service: string): string {
      if (stockServices.has(service) || extraServices.has(service)) return service;
      if (extraServices.size < MAX_EXTRA_SERVICES && /^[a-z0-9][a-z0-9._-]{0,31}$/i.test(service)) {
        extraServices.add(service);
        return service;
      }
      onFold("service");
      return OTHER;
    },
  };
}

/**
 * Mail servers as `host` label values. Syslog lets anyone name any host, so only so many get a label:
 * configured hosts (DETECTOR_METRICS_HOSTS) always; then `firstCome` hosts as they appear; then
 * `proven` more, kept for hosts that show real mail flow (a message queued, delivered and removed),
 * so that a sender spoofing names first cannot push a real server that appears later into `other`.
 */
export class HostLabels {
  private readonly labelled: Set<string>;
  private firstCome = 0;
  private proven = 0;
  /** Hosts not labelled yet, with the mail-flow kinds seen from each (bits); bounded, oldest dropped. */
  private readonly evidence = new Map<string, number>();

  constructor(
    configured: readonly string[],
    private readonly limits: { firstCome: number; proven: number },
    private readonly onFold: OnFold = () => undefined,
  ) {
    this.labelled = new Set(configured);
  }

  /** Records what the event says about its host's mail flow; call before `label`. */
  observe(event: PostfixEvent): void {
    const bit = MAIL_FLOW[event.kind as keyof typeof MAIL_FLOW];
    if (bit === undefined || this.labelled.has(event.host)) return;
    const seen = (this.evidence.get(event.host) ?? 0) | bit;
    if (seen === ALL_MAIL_FLOW && this.proven < this.limits.proven) {
      this.evidence.delete(event.host);
      this.labelled.add(event.host);
      this.proven++;
      return;
    }
    this.evidence.delete(event.host);
    if (this.evidence.size >= MAX_EVIDENCE_HOSTS) {
      const oldest = this.evidence.keys().next().value;
      if (oldest !== undefined) this.evidence.delete(oldest);
    }
    this.evidence.set(event.host, seen);
  }

  label(host: string): string {
    if (this.labelled.has(host)) return host;
    if (this.firstCome < this.limits.firstCome) {
      this.labelled.add(host);
      this.firstCome++;
      return host;
    }
    this.onFold("host");
    return OTHER;
  }
}

const MAIL_FLOW = { queued: 1, delivery: 2, removed: 4 } as const;
const ALL_MAIL_FLOW = 7;
/** Unlabelled hosts whose mail flow is followed; a flood of names drops the oldest. */
const MAX_EVIDENCE_HOSTS = 4096;
