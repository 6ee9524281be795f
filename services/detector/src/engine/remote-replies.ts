/**
 * What remote servers' replies to our mail say, by their text: about our sending IP's reputation
 * or rate (every message suffers), or about one message's content (a virus, spam, a policy).
 */

/** Replies about our sending IP's reputation or rate, not about one message. */
export const REPUTATION_REPLY =
  /unusual rate|rate[- ]?limit|too many (messages|connections)|reputation|block ?list|black ?list|\blisted\b|spamhaus|spamcop|barracuda|\bRBL\b|DNSBL|\bblocked\b/i;
/** Replies that name the message's content: these win over REPUTATION_REPLY's `blocked`. */
export const CONTENT_REPLY = /virus|content|attachment|security issue|spam message|message (was )?blocked/i;

/** Content words beyond CONTENT_REPLY: malware, a spam verdict, a policy refusal. */
const CONTENT_VERDICT = /malware|infected|\bspam\b|\bpolicy\b/i;
/** A permanent refusal (`550 ...`, or `host mx said: 552-5.7.0 ...`). */
const PERMANENT = /(?:^|said: )5\d\d[ -]/;
const SECURITY_STATUS = /\b5\.7\.\d{1,3}\b/;

/**
 * A remote content rejection of a message: `551 virus infected mail rejected`, `552 5.7.0 ...
 * security issue`, `550 5.7.1 ... spam`, or another 5.7.x policy refusal that is not about our
 * IP's reputation. What an outsider's mail through a taken-over account runs into.
 */
export function isContentRejection(reply: string): boolean {
  if (!PERMANENT.test(reply)) return false;
  if (CONTENT_REPLY.test(reply)) return true;
  if (REPUTATION_REPLY.test(reply)) return false;
  return CONTENT_VERDICT.test(reply) || SECURITY_STATUS.test(reply);
}
