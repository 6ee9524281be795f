/**
 * pflogsumm parity: on one generated mixed log, postwatch's Grand Totals (`buildReport`) equal
 * pflogsumm 1.1.5's (Debian 12), "rejected" included. Needs pflogsumm installed.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { PostfixEvent } from "../../shared/src/contracts/events.js";
import { buildReport } from "../../shared/src/report/report.js";
import type { Totals } from "../../shared/src/report/totals.js";
import type { LogFormat } from "../generator/mixed-log.js";
import { type ParityLog, postwatchEvents, writeParityLog } from "./parity-log.js";
import { type PflogsummTotals, runPflogsumm, SAME_DEFINITION } from "./peers.js";

// pflogsumm 1.1.5 reads both Debian's RFC 3339 mail.log and the traditional BSD format.
for (const format of ["bsd", "rfc3339"] as const satisfies readonly LogFormat[]) {
  describe(`pflogsumm parity (${format} log)`, () => {
    let log: ParityLog;
    let pflogsumm: PflogsummTotals;
    let events: PostfixEvent[];
    let ours: Totals;

    before(async () => {
      log = await writeParityLog(format);
      pflogsumm = (await runPflogsumm(log.file)).totals;
      events = await postwatchEvents(log.file);
      ours = buildReport(events).totals;
    });
    after(() => log?.remove());

    test("received, delivered, deferred, bounced and the other shared totals are equal", (t) => {
      t.diagnostic(`total            postwatch  pflogsumm`);
      for (const key of SAME_DEFINITION)
        t.diagnostic(
          `${key.padEnd(16)} ${String(ours[key]).padStart(9)}  ${String(pflogsumm[key]).padStart(9)}`,
        );
      const pick = (totals: Totals | PflogsummTotals) =>
        Object.fromEntries(SAME_DEFINITION.map((k) => [k, totals[k]]));
      assert.deepEqual(pick(ours), pick(pflogsumm), "postwatch (actual) vs pflogsumm (expected)");
      assert.ok(
        ours.received > 0 && ours.delivered > 0 && ours.deferred > 0 && ours.bounced > 0,
        "the log exercises every total",
      );
    });

    test("rejected includes postscreen's rejects and cleanup's milter-rejects, as 1.1.5 counts them", () => {
      // 1.1.5's smtpd branch also takes `postfix/postscreen` lines (`$cmd eq 'smtpd' || $cmd eq
      // 'postscreen'`) and its cleanup pattern is `(?:milter-)?reject`; 1.1.3 counted neither. The
      // equality above only proves that definition if the log has both kinds of line.
      const isReject = (e: PostfixEvent): e is Extract<PostfixEvent, { kind: "reject" }> =>
        e.kind === "reject";
      const postscreenRejects = events.filter(
        (e) => isReject(e) && e.daemon === "postscreen" && e.action === "reject",
      ).length;
      const milterRejects = events.filter(
        (e) => isReject(e) && e.daemon === "cleanup" && e.action === "milter-reject",
      ).length;
      assert.ok(postscreenRejects > 0 && milterRejects > 0, "the log exercises both kinds of reject");
      assert.ok(ours.rejected > postscreenRejects + milterRejects, "and smtpd's rejects besides");
    });
  });
}
