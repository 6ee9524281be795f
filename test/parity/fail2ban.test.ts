/**
 * fail2ban parity: on one generated mixed log, postwatch's SASL failures (`sasl_auth_failed`
 * events) per client address equal what fail2ban's postfix-sasl filter (`postfix[mode=auth]`)
 * matches, except the failures that filter leaves out on purpose. Needs fail2ban installed.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { PostfixEvent } from "../../shared/src/contracts/events.js";
import { GROUND_TRUTH, type LogFormat } from "../generator/mixed-log.js";
import { type ParityLog, postwatchEvents, writeParityLog } from "./parity-log.js";
import { fail2banSaslFailuresByIp, runFail2banSasl } from "./peers.js";

type SaslFailure = Extract<PostfixEvent, { kind: "sasl_auth_failed" }>;

/**
 * mode=auth's regex ends in `(?! Connection lost to authentication server| Invalid authentication
 * mechanism)` and takes only these mechanisms: a broken auth backend or an unsupported mechanism is
 * not the client guessing passwords. postwatch keeps those lines as SASL failures (its rules see them).
 */
const FAIL2BAN_IGNORED_REASONS = new Set([
  "Connection lost to authentication server",
  "Invalid authentication mechanism",
]);
const FAIL2BAN_MECHANISMS = new Set(["LOGIN", "PLAIN", "CRAM-MD5", "DIGEST-MD5"]);
const countedByFail2ban = (failure: SaslFailure) =>
  !FAIL2BAN_IGNORED_REASONS.has(failure.reason) && FAIL2BAN_MECHANISMS.has(failure.mechanism);

const tally = (failures: readonly SaslFailure[]) => {
  const byIp = new Map<string, number>();
  for (const f of failures) byIp.set(f.client.ip, (byIp.get(f.client.ip) ?? 0) + 1);
  return Object.fromEntries([...byIp].sort(([a], [b]) => a.localeCompare(b)));
};

for (const format of ["bsd", "rfc3339"] as const satisfies readonly LogFormat[]) {
  describe(`fail2ban postfix[mode=auth] parity (${format} log)`, () => {
    let log: ParityLog;
    let failures: SaslFailure[];

    before(async () => {
      log = await writeParityLog(format);
      failures = (await postwatchEvents(log.file)).filter(
        (e): e is SaslFailure => e.kind === "sasl_auth_failed",
      );
    });
    after(() => log?.remove());

    test("fail2ban reads every line and matches postwatch's failures minus the ones it ignores", async (t) => {
      const summary = await runFail2banSasl(log.file);
      const ignored = failures.filter((f) => !countedByFail2ban(f));
      t.diagnostic(
        `SASL failures: postwatch ${failures.length}, fail2ban ${summary.matched}, ignored by fail2ban by design ${ignored.length}`,
      );
      assert.equal(summary.lines, log.lines, "fail2ban-regex read the whole file");
      assert.ok(ignored.length > 0, "the log exercises the failures fail2ban ignores");
      assert.equal(summary.matched, failures.length - ignored.length);
    });

    test("per client address, the counts a ban would be based on are equal", async () => {
      const theirs = Object.fromEntries(
        [...(await fail2banSaslFailuresByIp(log.file))].sort(([a], [b]) => a.localeCompare(b)),
      );
      assert.deepEqual(
        tally(failures.filter(countedByFail2ban)),
        theirs,
        "postwatch (actual) vs fail2ban (expected)",
      );
      for (const ip of GROUND_TRUTH.bruteForceIps)
        assert.ok((theirs[ip] ?? 0) > 20, `brute-force address ${ip} is in both`);
    });
  });
}
