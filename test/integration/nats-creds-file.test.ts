/**
 * NATS_CREDS_FILE against a nats-server in operator mode (JWT accounts, as Synadia Cloud and
 * `nsc`-managed clusters run): `postwatch start` with the user's credentials file declares its
 * streams in that account and carries a brute force through to the webhook; with credentials the
 * server does not trust it exits non-zero saying NATS refused it; and the user's secret seed is in
 * nothing it logs, at the most verbose level, in either case.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type EmbeddedNats, startEmbeddedNats } from "../../shared/src/runtime/embedded-nats.js";
import { natsServerMissing } from "../helpers/nats-cluster.js";
import { type NatsTrust, natsTrust } from "../helpers/nats-jwt.js";
import { freePort } from "../helpers/ports.js";
import { loopbackServiceEnv } from "../helpers/service-env.js";
import { carriesBruteForce, refusedByNats } from "../helpers/start-with-credentials.js";
import { startWebhookServer, type WebhookServer } from "../helpers/webhook-server.js";

describe("NATS credentials file", { skip: natsServerMissing() }, () => {
  let dir: string;
  let nats: EmbeddedNats;
  let webhook: WebhookServer;
  let trusted: NatsTrust;
  const env = async (credsFile: string, syslogPort: number): Promise<Record<string, string>> => ({
    ...loopbackServiceEnv({
      natsUrl: nats.url,
      metricsPort: await freePort(),
      syslogPort,
      webhookUrl: `${webhook.url}/hook`,
    }),
    NATS_CREDS_FILE: credsFile,
    LOG_LEVEL: "trace",
  });
  const credsFile = (name: string, trust: NatsTrust): string => {
    const path = join(dir, name);
    writeFileSync(path, trust.creds, { mode: 0o600 });
    return path;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "postwatch-nats-creds-"));
    trusted = natsTrust();
    writeFileSync(join(dir, "server.conf"), trusted.serverConfig);
    nats = await startEmbeddedNats({
      storeDir: join(dir, "store"),
      extraArgs: ["-c", join(dir, "server.conf")],
    });
    webhook = await startWebhookServer();
  });

  after(async () => {
    await webhook?.[Symbol.asyncDispose]();
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("with the account's user, carries a brute force to the webhook and logs no seed", async () => {
    const syslogPort = await freePort();
    const log = await carriesBruteForce(
      await env(credsFile("user.creds", trusted), syslogPort),
      syslogPort,
      webhook,
    );
    assert.ok(!log.includes(trusted.userSeed), `the log holds the seed:\n${log}`);
  });

  it("with a user of an account the server does not trust, exits non-zero saying why, and logs no seed", async () => {
    const stranger = natsTrust();
    const log = await refusedByNats(await env(credsFile("stranger.creds", stranger), await freePort()));
    assert.ok(!log.includes(stranger.userSeed), `the log holds the seed:\n${log}`);
  });
});
