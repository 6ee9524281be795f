/**
 * Postfix line → event: one pure function, no state, no I/O. Dispatch is on the first character and
 * cheap prefix checks; regexes only run anchored on a line already known to have their shape, and
 * none can backtrack super-linearly (parse.property.test.ts feeds it 64 KiB hostile lines).
 * test/fixtures/postfix-corpus.log holds an example of every shape, grouped by the kind it yields.
 */
import { EVENT_SCHEMA_VERSION } from "../contracts/event-constants.js";
import type { PostfixEvent } from "../contracts/events.js";
import type { SyslogRecord } from "../syslog/record.js";
import {
  debug,
  isClientlessDebug,
  isVerboseTrace,
  parseConversation,
  parsePeerDetail,
  parseTlsSetup,
} from "./debug.js";
import { parseBounceNotice, parseDelivery, parseMessageId, parsePickup, parseQmgrFrom } from "./delivery.js";
import { diagnostic, isNotice, isPeerTrouble, notice, parseWarning, peerTrouble } from "./diagnostic.js";
import { afterQueueId, type Head, leadingQueueId, withHead } from "./fields.js";
import { flat } from "./flat.js";
import { IsoTimeCache, isoTime } from "./iso-time.js";
import { parseAnvil, parsePostscreen } from "./postscreen.js";
import { RecurringStrings } from "./recurring.js";
import { parseMilterAction, parseReject, REJECT_ACTIONS } from "./reject.js";
import { redactSecrets } from "./secrets.js";
import { parseAfterStage, parseClient, parseConnect, parseDisconnect, parseTls } from "./smtpd.js";

export { redactSecrets } from "./secrets.js";

interface Program {
  daemon: string;
  service?: string;
  instance?: string;
}

/**
 * `postfix/smtpd`, `postfix/submission/smtpd`, `postfix-out/smtp`, `postfix-in/submission/smtpd`.
 * RFC 5424 delivers only `postfix` (rsyslog cuts the tag at the first slash), so the daemon is
 * `unknown` and the message is parsed by its shape alone.
 */
export function splitProgram(appName: string): Program | null {
  if (!appName.startsWith("postfix")) return null;
  const slash = appName.indexOf("/");
  const instance = slash < 0 ? appName : appName.slice(0, slash);
  if (instance !== "postfix" && !(instance.startsWith("postfix-") && instance.length > 8)) return null;
  const program: Program = { daemon: "unknown" };
  if (instance !== "postfix") program.instance = instance;
  if (slash < 0) return program;
  const last = appName.lastIndexOf("/");
  if (last > slash + 1) program.service = appName.slice(slash + 1, last);
  if (last < appName.length - 1) program.daemon = appName.slice(last + 1);
  return program;
}

/**
 * What parsePostfix remembers from one line to the next, kept by its caller: one per stream of
 * lines. Every entry is keyed by or checked against what the line holds, so streams interleaved
 * through one cache give the same events.
 */
export class PostfixCache {
  /**
   * splitProgram by tag: a log names a few dozen programs, and the syslog parser hands the same tag
   * string back for each (so its hash is computed once). Bounded for logs full of odd tags.
   */
  readonly programs = new Map<string, Program | null>();
  readonly isoTimes = new IsoTimeCache();
  /** smtpd's command counter names (`ehlo`, `auth`, ...) on disconnect lines. */
  readonly counterNames = new RecurringStrings(64);
}

const MAX_PROGRAMS = 1024;

function programOf(appName: string, programs: Map<string, Program | null>): Program | null {
  let program = programs.get(appName);
  if (program === undefined) {
    if (programs.size >= MAX_PROGRAMS) programs.clear();
    program = splitProgram(appName);
    programs.set(flat(appName), program);
  }
  return program;
}

/**
 * Returns null only for records from other programs; every Postfix line yields an event. The cache
 * only makes it faster: pass one per stream of lines (a fresh one each call gives the same events).
 */
export function parsePostfix(
  record: SyslogRecord,
  cache: PostfixCache = new PostfixCache(),
): PostfixEvent | null {
  const program = programOf(record.appName, cache.programs);
  if (program === null) return null;
  const head: Head = {
    v: EVENT_SCHEMA_VERSION,
    ts: isoTime(record.timestamp, cache.isoTimes),
    host: record.hostname,
    program: record.appName,
    daemon: program.daemon,
    pid: Number.isSafeInteger(record.pid) ? record.pid : null,
  };
  if (program.service !== undefined) head.service = program.service;
  if (program.instance !== undefined) head.instance = program.instance;
  let text = record.message;
  // RFC 5424 MSG keeps the space after the structured data.
  if (text.charCodeAt(0) === 32) text = text.trimStart();
  const idLength = leadingQueueId(text);
  if (idLength > 0) {
    const id = text.slice(0, idLength);
    if (id !== "NOQUEUE") head.queueId = id;
    text = text.slice(idLength + 2);
  }
  return (
    parseMessage(head, text, cache) ??
    (isVerboseTrace(text)
      ? debug(head, text)
      : withHead(head, { kind: "unparsed", text: redactSecrets(text) }))
  );
}

function parseMessage(head: Head, text: string, cache: PostfixCache): PostfixEvent | null {
  // `<action>: ` and `<severity>: ` words are short; one bounded lookup serves both.
  const colon = shortWordColon(text);
  if (colon > 0) {
    const word = text.slice(0, colon);
    if (word === "warning") return parseWarning(head, text.slice(colon + 2));
    if (word === "error" || word === "fatal" || word === "panic") {
      return diagnostic(head, word, afterQueueId(head, text.slice(colon + 2)));
    }
    if (REJECT_ACTIONS.has(word)) {
      const reject = parseReject(head, word, text, colon + 2);
      if (reject !== null) return reject;
    }
    if (word === "statistics") {
      const anvil = parseAnvil(head, text, colon + 2);
      if (anvil !== null) return anvil;
    }
  }
  return byShape(head, text, cache) ?? byLooseShape(head, text);
}

/**
 * Where `: ` follows a first word of at most 16 characters, or -1; never scans further. Every word
 * looked up is lower-case letters, `-` and `_`, so the scan stops at any other character: most lines
 * (`to=<`, `connect from`, `Anonymous TLS`) are told apart in a few characters.
 */
function shortWordColon(text: string): number {
  const limit = Math.min(text.length - 1, 17);
  for (let i = 1; i < limit; i++) {
    const c = text.charCodeAt(i);
    if (c === 58 /* : */) return text.charCodeAt(i + 1) === 32 ? i : -1;
    if (!((c >= 97 && c <= 122) || c === 45 || c === 95)) return -1;
  }
  return -1;
}

/** The shapes that start with a fixed word, picked by first character. */
function byShape(head: Head, text: string, cache: PostfixCache): PostfixEvent | null {
  switch (text.charCodeAt(0)) {
    case 99 /* c */:
      if (text.startsWith("connect from ")) return parseConnect(head, text, 13);
      if (text.startsWith("client=")) return parseClient(head, text, 7);
      break;
    case 100 /* d */:
      if (text.startsWith("disconnect from ")) return parseDisconnect(head, text, 16, cache.counterNames);
      break;
    case 108 /* l */:
      if (text.startsWith("lost connection after "))
        return parseAfterStage(head, "lost_connection", text, 22);
      break;
    case 116 /* t */:
      if (text.startsWith("to=")) return parseDelivery(head, text);
      if (text.startsWith("timeout after ")) return parseAfterStage(head, "timeout", text, 14);
      if (text.startsWith("too many errors after "))
        return parseAfterStage(head, "too_many_errors", text, 22);
      break;
    case 102 /* f */:
      if (text.startsWith("from=")) return parseQmgrFrom(head, text);
      break;
    case 109 /* m */:
      if (text.startsWith("message-id=")) return parseMessageId(head, text, 11);
      if (text.startsWith("milter-")) return parseMilterAction(head, text);
      break;
    case 114 /* r */:
      if (text === "removed") return withHead(head, { kind: "removed" });
      if (text === "requeued" || text === "released from hold") return notice(head, text);
      if (text.startsWith("resent-message-id=")) return parseMessageId(head, text, 18, true);
      break;
    case 117 /* u */:
      if (text.startsWith("uid=")) return parsePickup(head, text);
      break;
    case 115 /* s */:
    case 112 /* p */:
      if (text.startsWith("sender ") || text.startsWith("postmaster ")) {
        const bounce = parseBounceNotice(head, text);
        if (bounce !== null) return bounce;
      }
      if (text.startsWith("setting up TLS connection ")) return parseTlsSetup(head, text, 26);
      if (text === "placed on hold") return notice(head, text);
      break;
    case 60 /* < */:
    case 62 /* > */:
      return parseConversation(head, text);
  }
  return null;
}

/** Shapes recognised by a pattern rather than a fixed first word, most specific first. */
function byLooseShape(head: Head, text: string): PostfixEvent | null {
  if (isPeerTrouble(text)) return peerTrouble(head, text);
  if (isNotice(text)) return notice(head, text);
  if (isClientlessDebug(text)) return debug(head, text);
  const space = text.indexOf(" ");
  if (space > 0 && space < 16) {
    const tls = parseTls(head, text, space);
    if (tls !== null) return tls;
  }
  return parsePostscreen(head, text) ?? parsePeerDetail(head, text);
}
