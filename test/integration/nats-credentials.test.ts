/**
 * NATS_USER and NATS_PASSWORD against a nats-server that requires them: `postwatch start` on it
 * carries a brute force through to the webhook; with a wrong password it exits non-zero saying
 * why; and neither password is in anything it logs, at the most verbose level, in either case.
 * The same user and password written into NATS_URL (`nats://user:password@host:port`) work too,
 * and stay out of the log; so does a token (`nats://token@host:port`), against a server that wants one.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { z } from "zod";
import { loadConfig, natsConfig, natsSettings } from "../../shared/src/runtime/config.js";
import { type EmbeddedNats, startEmbeddedNats } from "../../shared/src/runtime/embedded-nats.js";
import { createLogger } from "../../shared/src/runtime/log.js";
import { connectNats, NatsUnavailableError } from "../../shared/src/runtime/nats.js";
import { natsServerMissing } from "../helpers/nats-cluster.js";
import { freePort } from "../helpers/ports.js";
import { loopbackServiceEnv } from "../helpers/service-env.js";
import { carriesBruteForce, refusedByNats } from "../helpers/start-with-credentials.js";
import { startWebhookServer, type WebhookServer } from "../helpers/webhook-server.js";

const USER = "postwatch-svc";
const PASSWORD = "s3cret-nats-Pa55word";
const WRONG_PASSWORD = "wrong-nats-Pa55word";
/** Not seed 002's own address: the URL test's alert must be new to the detector and the alerter. */
const URL_TEST_ATTACKER = "192.0.2.201";

describe("NATS user and password", { skip: natsServerMissing() }, () => {
  let storeDir: string;
  let nats: EmbeddedNats;
  let webhook: WebhookServer;
  const env = async (password: string, syslogPort: number): Promise<Record<string, string>> => ({
    ...loopbackServiceEnv({
      natsUrl: nats.url,
      metricsPort: await freePort(),
      syslogPort,
      webhookUrl: `${webhook.url}/hook`,
    }),
    NATS_USER: USER,
    NATS_PASSWORD: password,
    LOG_LEVEL: "trace",
  });

  before(async () => {
    storeDir = mkdtempSync(join(tmpdir(), "postwatch-nats-auth-"));
    nats = await startEmbeddedNats({ storeDir, extraArgs: ["--user", USER, "--pass", PASSWORD] });
    webhook = await startWebhookServer();
  });

  after(async () => {
    await webhook?.[Symbol.asyncDispose]();
    await nats?.stop();
    rmSync(storeDir, { recursive: true, force: true });
  });

  it("with the right password, carries a brute force to the webhook and logs no password", async () => {
    const syslogPort = await freePort();
    const log = await carriesBruteForce(await env(PASSWORD, syslogPort), syslogPort, webhook);
    assert.ok(!log.includes(PASSWORD), `the log holds the password:\n${log}`);
  });

  it("with the user and password in NATS_URL instead, connects and logs neither", async () => {
    const syslogPort = await freePort();
    const { NATS_USER: _user, NATS_PASSWORD: _password, ...rest } = await env(PASSWORD, syslogPort);
    const inUrl = nats.url.replace("nats://", `nats://${USER}:${PASSWORD}@`);
    const log = await carriesBruteForce({ ...rest, NATS_URL: inUrl }, syslogPort, webhook, URL_TEST_ATTACKER);
    assert.ok(!log.includes(PASSWORD), `the log holds the password:\n${log}`);
  });

  it("with a wrong password, exits non-zero saying NATS refused it, and logs no password", async () => {
    const log = await refusedByNats(await env(WRONG_PASSWORD, await freePort()));
    for (const password of [WRONG_PASSWORD, PASSWORD])
      assert.ok(!log.includes(password), `the log holds a password:\n${log}`);
  });
});

describe("NATS token in NATS_URL", { skip: natsServerMissing() }, () => {
  const TOKEN = "s3cret-nats-t0ken";
  let storeDir: string;
  let nats: EmbeddedNats;
  const connectWith = (token: string) =>
    connectNats(
      natsSettings(
        loadConfig(z.object(natsConfig()), { NATS_URL: nats.url.replace("nats://", `nats://${token}@`) }),
        "postwatch-test",
      ),
      createLogger({ level: "silent", service: "test" }),
    );

  before(async () => {
    storeDir = mkdtempSync(join(tmpdir(), "postwatch-nats-token-"));
    nats = await startEmbeddedNats({ storeDir, extraArgs: ["--auth", TOKEN] });
  });

  after(async () => {
    await nats?.stop();
    rmSync(storeDir, { recursive: true, force: true });
  });

  it("connects with the token the URL carries, and a wrong one is refused without naming it", async () => {
    const { connection } = await connectWith(TOKEN);
    await connection.flush();
    await connection.close();
    const refused = await connectWith("wrong-t0ken").then(
      () => assert.fail("connected with a wrong token"),
      (error: unknown) => error,
    );
    assert.ok(refused instanceof NatsUnavailableError, String(refused));
    assert.match(refused.message, /authoriz/i);
    assert.ok(!refused.message.includes("wrong-t0ken"), refused.message);
  });
});
