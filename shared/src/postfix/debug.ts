/**
 * Debug output (`smtpd_tls_loglevel` >= 2, `debug_peer_list`, `-v`). Mostly noise, but the AUTH
 * payloads in it name the user being tried, and carry the password: see secrets.ts.
 */
import type { Endpoint, EventOf } from "../contracts/events.js";
import { endpointAt } from "./endpoint.js";
import { type Head, prefixPattern, withHead } from "./fields.js";
import { authUsername, redactSecrets } from "./secrets.js";

type Debug = EventOf<"debug">;

export function debug(head: Head, text: string, client?: Endpoint): Debug {
  const event: Debug = withHead(head, { kind: "debug", text: redactSecrets(text) });
  const user = authUsername(text);
  if (user !== undefined) event.authUsername = user;
  if (client !== undefined) event.client = client;
  return event;
}

const CHARS = /^(?:Read|Write) \d{1,9} chars: /;
const BIO = /^(?:read from|write to) [0-9A-Fa-f]{4,16} /;
/** `0000 16 03 03 01 06   .....` and `0085 - <SPACES/NULLS>`. */
const HEX_DUMP = /^[0-9a-f]{4} (?:[0-9a-f]{2} |- )/;
/** `-v` output is prefixed by the C function name: `smtp_get: EOF`, `xsasl_cyrus_server_first: ...`. */
const FUNCTION = /^[a-z][a-z0-9]{0,31}_[a-z0-9_]{1,63}: /;
/**
 * Postfix's attribute protocol between its daemons (anvil, tlsmgr, policy servers), logged under
 * `debug_peer_list` and `-v` (attr_scan0.c, attr_print0.c): `private/anvil: wanted attribute: count`,
 * `input attribute name: status`, `input attribute value: 0`, `send attr request = connect`.
 */
const ATTRIBUTE =
  /^(?:[\w./-]{1,128}(?: socket)?: wanted attribute: |input attribute (?:name|value): |send attr [\w.-]{1,64} = )/;

/**
 * The most frequent `-v` lines that carry no function name: smtpd's restriction tracing (`>>> START
 * Recipient address RESTRICTIONS <<<`), cleanup's envelope records, client connections to daemons.
 */
const VERBOSE_PREFIXES = [
  ">>> ",
  "initial envelope ",
  "extracted envelope ",
  "connection established",
  "connection closed",
];
/**
 * The daemons' own `-v` bookkeeping, each shape read off a real Postfix 3.7 run: process
 * generations, qmgr's queue scans and requests, smtpd's milter steps and cleanup flags, the smtp
 * client's address lists and buffers, and parameter dumps (`unverified_sender_tempfail_action =
 * defer_if_permit`). What still matches nothing stays `unparsed`, counted.
 */
const VERBOSE_TRACE = new RegExp(
  `^(?:${[
    "process generation: \\d",
    "(?:start|end) sorted recipient list$",
    "done (?:incoming|deferred) queue scan$",
    "(?:start|end) move queue ",
    "request(?: ignored$|: \\d)",
    "recipient limit \\d",
    "open (?:incoming|active|deferred|hold|maildrop)/",
    "fsspace: ",
    "(?:before |after )?(?:input_transp_cleanup: )?cleanup flags = ",
    "trying\\.\\.\\. \\[",
    "(?:report connect|disconnect event) to all milters$",
    "free (?:all milters$|milter )",
    "global TLS level: ",
    "(?:begin|end) \\S+ address list$",
    "pref +\\d+ host ",
    "connecting to \\S+ port \\d",
    "fd=\\d+: stream buffer size ",
    "server features: ",
    "Using ESMTP PIPELINING, ",
    "[a-z][a-z0-9]*(?:_[a-z0-9]+)+ = ",
  ].join("|")})`,
);

/** The debug shapes that name no client; the session tracker ties them to one by pid. */
/**
 * The shapes above as one regex (each is anchored): every line no fixed word recognised tries it, TLS
 * and postscreen lines among them, and a test per shape cost ~10 ns each.
 */
const CLIENTLESS_DEBUG = new RegExp(
  [/^SSL_(?:accept|connect):/, CHARS, BIO, HEX_DUMP, FUNCTION, ATTRIBUTE, prefixPattern(VERBOSE_PREFIXES)]
    .map((pattern) => pattern.source)
    .join("|"),
);

export function isClientlessDebug(text: string): boolean {
  return CLIENTLESS_DEBUG.test(text);
}

/**
 * The rarer `-v` shapes (VERBOSE_TRACE), tried only on a line nothing else recognised: one more
 * pattern on every TLS or postscreen line measured 5% of the parser's time.
 */
export function isVerboseTrace(text: string): boolean {
  return VERBOSE_TRACE.test(text);
}

/** `< <ep>: AUTH PLAIN ...`, `> <ep>: 235 ...`: the SMTP conversation with `debug_peer_list`. */
export function parseConversation(head: Head, text: string): Debug | null {
  if (text.charCodeAt(1) !== 32) return null;
  const match = endpointAt(text, 2);
  return match === null ? null : debug(head, text, match.endpoint);
}

/** `setting up TLS connection from|to <ep>`. */
export function parseTlsSetup(head: Head, text: string, at: number): Debug | null {
  const dir = text.startsWith("from ", at) ? 5 : text.startsWith("to ", at) ? 3 : -1;
  if (dir < 0) return null;
  const match = endpointAt(text, at + dir);
  return match === null ? null : debug(head, text, match.endpoint);
}

/** TLS detail lines led by the peer: `unknown[ip]: TLS cipher list "..."`, `mx[ip]:25: subject_CN=...`. */
export function parsePeerDetail(head: Head, text: string): Debug | null {
  const match = endpointAt(text, 0);
  if (match === null || !text.startsWith(": ", match.end)) return null;
  return debug(head, text, match.endpoint);
}
