/**
 * `postwatch start` against a NATS server that wants credentials, the two ways the credential tests
 * run it: given the right ones, it carries seed 002's brute force to the webhook and stops cleanly;
 * given wrong ones, it exits on its own. Either way the caller gets its whole log, to look for
 * secrets in.
 */
import assert from "node:assert/strict";
import type { Alert } from "../../shared/src/contracts/alerts.js";
import { fixtureLines, traditionalForward } from "./fixtures.js";
import { spawnService } from "./service-process.js";
import { sendTcp } from "./syslog-client.js";
import type { WebhookServer } from "./webhook-server.js";

/** The brute force's address in seed 002. */
export const SEED_ATTACKER = "176.103.49.30";

/**
 * Runs `postwatch start` with `env` (its syslog listener on `syslogPort`), sends seed 002's brute
 * force from `attacker` (a test's own address, so its alert is new to a detector and an alerter
 * that saw an earlier test's), waits for its alert at `webhook`, stops it and returns its log.
 */
export async function carriesBruteForce(
  env: Record<string, string>,
  syslogPort: number,
  webhook: WebhookServer,
  attacker = SEED_ATTACKER,
): Promise<string> {
  const postwatch = spawnService("start", env);
  try {
    await postwatch.running(20_000);
    const lines = fixtureLines("sasl-bruteforce-seed002.log").map((line) =>
      traditionalForward(line.replaceAll(SEED_ATTACKER, attacker)),
    );
    await sendTcp(syslogPort, lines, "lf");
    await webhook.waitFor(
      "/hook",
      (requests) =>
        requests.some((r) => {
          const alert = r.body as Alert;
          return alert.rule === "sasl_bruteforce" && alert.key.value === attacker;
        }),
      15_000,
    );
  } finally {
    await postwatch.kill("SIGTERM");
  }
  assert.equal(await postwatch.exited(), 0, postwatch.log());
  assert.match(postwatch.log(), /connected to NATS/);
  return postwatch.log();
}

/** Runs `postwatch start` with `env`, which NATS must refuse: asserts it exits non-zero saying so, and returns its log. */
export async function refusedByNats(env: Record<string, string>): Promise<string> {
  const postwatch = spawnService("start", env);
  const code = await Promise.race([
    postwatch.exited(),
    new Promise((resolve) => setTimeout(() => resolve("still running"), 20_000)),
  ]);
  await postwatch.kill("SIGKILL");
  const log = postwatch.log();
  assert.ok(typeof code === "number" && code !== 0, `exit ${String(code)}:\n${log}`);
  assert.match(log, /cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+: .*authoriz/i);
  return log;
}
