/**
 * The deployment tests' end-to-end check: the seed's SASL brute force (one attacker, 176.103.49.30),
 * sent as rsyslog forwards it to a receiver's TCP port, comes out of the alerter at a webhook.
 */
import assert from "node:assert/strict";
import { fixtureLines, traditionalForward } from "./fixtures.js";
import { sendTcp } from "./syslog-client.js";
import { firingAlerts, type WebhookServer } from "./webhook-server.js";

export async function assertSeedBruteForceAlerts(
  syslogPort: number,
  webhook: WebhookServer,
  path: string,
  timeoutMs: number,
): Promise<void> {
  await sendTcp(
    syslogPort,
    fixtureLines("sasl-bruteforce-seed002.log").map((line) => traditionalForward(line)),
    "lf",
  );
  const requests = await webhook.waitFor(
    path,
    (r) => firingAlerts(r, "sasl_bruteforce").length > 0,
    timeoutMs,
  );
  assert.equal(firingAlerts(requests, "sasl_bruteforce")[0]?.key.value, "176.103.49.30");
}
