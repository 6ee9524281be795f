/**
 * The reference tools postwatch is compared with, run on a file and their output read back:
 * pflogsumm's Grand Totals and fail2ban's `postfix[mode=auth]` filter (the postfix-sasl jail).
 */
import { MissingProgramError, runWithDeadline } from "../../bench/child-process.js";
import type { Totals } from "../../shared/src/report/totals.js";

export { MissingProgramError };

export const PEER_TIMEOUT_MS = 120_000;

/** The Grand Totals pflogsumm prints, in postwatch's own field names so the two compare directly. */
export type PflogsummTotals = Omit<
  Totals,
  "rejectedPercent" | "discardedPercent" | "bytesReceived" | "bytesDelivered"
>;

/** Counts both tools define the same way (shared/src/report/totals.ts): they must be equal. */
export const SAME_DEFINITION = [
  "received",
  "delivered",
  "forwarded",
  "deferred",
  "deferrals",
  "bounced",
  "rejected",
  "rejectWarnings",
  "held",
  "discarded",
  "senders",
  "recipients",
  "recipientDomains",
] as const satisfies readonly (keyof Totals & keyof PflogsummTotals)[];

/** Grand Totals label of each count; every label ends its line except the two with a parenthesis. */
const PFLOGSUMM_LABELS: Record<Exclude<keyof PflogsummTotals, "deferrals">, string> = {
  received: "received",
  delivered: "delivered",
  forwarded: "forwarded",
  deferred: "deferred",
  bounced: "bounced",
  rejected: "rejected",
  rejectWarnings: "reject warnings",
  held: "held",
  discarded: "discarded",
  senders: "senders",
  recipients: "recipients",
  recipientDomains: "recipient hosts/domains",
};

export async function runPflogsumm(file: string, timeoutMs = PEER_TIMEOUT_MS) {
  const run = await runWithDeadline("pflogsumm", [file], { timeoutMs, aptPackage: "pflogsumm" });
  return { totals: parsePflogsummTotals(run.stdout), wallMs: run.wallMs };
}

/**
 * Reads the Grand Totals block. pflogsumm prints counts above 512k as `NNNk`/`NNNm`, which loses
 * the exact number: such a count is an error here, not a rounded guess.
 */
export function parsePflogsummTotals(output: string): PflogsummTotals {
  const count = (pattern: string, label: string): number | undefined => {
    const match = new RegExp(`^\\s*(\\d+)([ km])\\s*${pattern}`, "m").exec(output);
    if (match === null) return undefined;
    if (match[2] !== " ")
      throw new Error(`pflogsumm printed "${label}" rounded (${match[1]}${match[2]}): use a smaller log`);
    return Number(match[1]);
  };
  const totals: Partial<PflogsummTotals> = {};
  for (const [key, label] of Object.entries(PFLOGSUMM_LABELS) as [keyof PflogsummTotals, string][]) {
    const value = count(`${label.replace("/", "\\/")}\\s*(?:$|\\()`, label);
    if (value === undefined)
      throw new Error(`pflogsumm output has no "${label}" total:\n${output.slice(0, 1500)}`);
    totals[key] = value;
  }
  // "(N deferrals)" is only printed when there were any.
  const deferrals = /\((\d+)([ km]) deferrals\)/.exec(output);
  if (deferrals !== null && deferrals[2] !== " ")
    throw new Error("pflogsumm printed deferrals rounded: use a smaller log");
  totals.deferrals = deferrals === null ? 0 : Number(deferrals[1]);
  return totals as PflogsummTotals;
}

const FAIL2BAN_SASL_FILTER = "postfix[mode=auth]";

/** fail2ban-regex's summary: `Lines: N lines, I ignored, M matched, X missed`. */
export async function runFail2banSasl(file: string, timeoutMs = PEER_TIMEOUT_MS) {
  const run = await runWithDeadline("fail2ban-regex", ["--print-no-missed", file, FAIL2BAN_SASL_FILTER], {
    timeoutMs,
    aptPackage: "fail2ban",
  });
  const summary = /^Lines: (\d+) lines, (\d+) ignored, (\d+) matched, (\d+) missed/m.exec(run.stdout);
  if (summary === null)
    throw new Error(`fail2ban-regex printed no "Lines:" summary:\n${run.stdout.slice(-1500)}`);
  return { lines: Number(summary[1]), matched: Number(summary[3]), wallMs: run.wallMs };
}

/** Failures per client address, as the jail would count them toward a ban (`-o ip`: one address per match). */
export async function fail2banSaslFailuresByIp(
  file: string,
  timeoutMs = PEER_TIMEOUT_MS,
): Promise<Map<string, number>> {
  const run = await runWithDeadline("fail2ban-regex", ["-o", "ip", file, FAIL2BAN_SASL_FILTER], {
    timeoutMs,
    aptPackage: "fail2ban",
  });
  const byIp = new Map<string, number>();
  for (const ip of run.stdout.split("\n")) if (ip !== "") byIp.set(ip, (byIp.get(ip) ?? 0) + 1);
  return byIp;
}
