/**
 * A remote SMTP server's reply as the smtp and lmtp clients quote it: `host mx[ip] said: 550 5.7.1
 * text (in reply to end of DATA command)` or `host mx[ip] refused to talk to me: 554 text`.
 */
import type { RemoteRejection } from "../contracts/events.js";

export interface RemoteReply {
  code: number;
  /** The enhanced status code at the start of the reply text, if any. */
  dsn?: string;
  /** The reply text after the codes, without the `(in reply to ...)` suffix. */
  text: string;
  stage?: string;
}

const IN_REPLY_TO = " (in reply to ";
const COMMAND = " command)";
const MAX_STAGE = 32;

/** `RCPT TO` from a text ending in `(in reply to RCPT TO command)`. */
export function replyStage(text: string): string | undefined {
  if (!text.endsWith(COMMAND)) return undefined;
  const open = text.lastIndexOf(IN_REPLY_TO);
  if (open < 0) return undefined;
  const stage = text.slice(open + IN_REPLY_TO.length, text.length - COMMAND.length);
  return stage.length > 0 && stage.length <= MAX_STAGE ? stage : undefined;
}

const MARKERS = ["] said: ", "] refused to talk to me: "];
/** `550 5.7.1 `, `550-5.7.1 `, `421 ` (a multi-line reply repeats the codes on each line). */
const CODES = /^([45]\d\d)[ -](?:(\d\.\d{1,3}\.\d{1,3}) )?/;

/** The 4xx or 5xx reply a response quotes, or undefined for Postfix's own words and for 2xx. */
export function remoteReply(response: string): RemoteReply | undefined {
  if (!response.startsWith("host ")) return undefined;
  for (const marker of MARKERS) {
    const at = response.indexOf(marker);
    if (at < 0) continue;
    const reply = response.slice(at + marker.length);
    const codes = CODES.exec(reply);
    if (codes === null) return undefined;
    const stage = replyStage(reply);
    const end = stage === undefined ? reply.length : reply.lastIndexOf(IN_REPLY_TO);
    const result: RemoteReply = { code: Number(codes[1]), text: reply.slice(codes[0].length, end) };
    if (codes[2] !== undefined) result.dsn = codes[2];
    if (stage !== undefined) result.stage = stage;
    return result;
  }
  return undefined;
}

const VIRUS = /virus|malware|infected|trojan|phish|malicious/;
/** The sending server's address or domain is on a list: a reputation verdict, not this message's. */
const REPUTATION =
  /blocklist|blacklist|block list|black list|blocked using|listed (?:at|on|in|by)|spamhaus|spamcop|barracuda|sorbs|reputation|dnsbl|\brbl\b/;
const SPAM = /spam|unsolicited|junk|bulk/;
const CONTENT = /content|attachment|security issue|suspicious/;
const RECIPIENT =
  /user unknown|unknown user|no such user|does not exist|doesn't exist|mailbox unavailable|mailbox not found|invalid recipient|not our customer/;
/** Enhanced codes for a bad destination mailbox or system, address syntax, moved mailbox (RFC 3463). */
const RECIPIENT_DSN = /^[45]\.1\.(?:1|2|3|6|10)$/;
const POLICY_DSN = /^[45]\.7\./;
const POLICY =
  /policy|dmarc|\bspf\b|dkim|not permitted|denied|greylist|not authorized|authentication required/;

/** Most specific first: a virus verdict outranks a listing, a listing outranks a spam score. */
export function classifyRemoteRejection(dsn: string, text: string): RemoteRejection {
  const lower = text.toLowerCase();
  if (VIRUS.test(lower)) return "virus";
  if (REPUTATION.test(lower)) return "reputation";
  if (SPAM.test(lower)) return "spam";
  if (CONTENT.test(lower)) return "content";
  if (RECIPIENT_DSN.test(dsn) || RECIPIENT.test(lower)) return "recipient";
  if (POLICY_DSN.test(dsn) || POLICY.test(lower)) return "policy";
  return "other";
}
