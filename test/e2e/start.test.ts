/**
 * `postwatch start` exactly as `npm start` runs it: a child process with no NATS_URL, so it starts
 * its own nats-server; a second start in the same folder is refused; the seed's brute force over
 * TCP reaches the webhook; the detector's thread shows in /metrics, /readyz and the log; SIGTERM
 * stops it all, the private nats-server included.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { Alert } from "../../shared/src/contracts/alerts.js";
import { fixtureLines, traditionalForward } from "../helpers/fixtures.js";
import { sample } from "../helpers/metrics.js";
import { freePort } from "../helpers/ports.js";
import { sendTcp } from "../helpers/syslog-client.js";
import { startWebhookServer } from "../helpers/webhook-server.js";

const MAIN = fileURLToPath(new URL("../../services/cli/src/main.js", import.meta.url));

describe("postwatch start", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "postwatch-start-"));
  let child: ChildProcess | undefined;

  after(() => {
    child?.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("runs the whole pipeline with its own nats-server and stops cleanly on SIGTERM", async () => {
    await using webhook = await startWebhookServer();
    const [syslogPort, metricsPort] = [await freePort(), await freePort()];
    child = spawn(process.execPath, [MAIN, "start"], {
      env: {
        PATH: process.env.PATH ?? "",
        POSTWATCH_DATA_DIR: dataDir,
        SYSLOG_HOST: "127.0.0.1",
        SYSLOG_TCP_PORT: String(syslogPort),
        SYSLOG_UDP_PORT: "0",
        METRICS_HOST: "127.0.0.1",
        METRICS_PORT: String(metricsPort),
        WEBHOOK_URL: `${webhook.url}/hook`,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let log = "";
    child.stdout?.on("data", (chunk: Buffer) => (log += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (log += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child?.once("exit", (code) => resolve(code)));

    const deadline = Date.now() + 15_000;
    while (!log.includes("postwatch running")) {
      assert.ok(child.exitCode === null, `postwatch start exited: ${log}`);
      assert.ok(Date.now() < deadline, `not running within 15 s: ${log}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Not a terminal: JSON lines, the banner among them, saying what listens where.
    assert.match(
      log,
      new RegExp(
        `"banner":\\{"syslog":"TCP 127\\.0\\.0\\.1:${syslogPort}","alerts":"to webhook",` +
          `"NATS":"a private nats-server on 127\\.0\\.0\\.1:\\d+ \\(pid \\d+\\), data in ${dataDir}",` +
          `"metrics":"http://127\\.0\\.0\\.1:${metricsPort}/metrics`,
      ),
    );
    const natsPids = readdirSync(join(dataDir, "ports")).map((f) => Number(/_(\d+)\.ports$/.exec(f)?.[1]));
    assert.equal(natsPids.length, 1, "one private nats-server");

    // A second start in the same folder must not open the same JetStream store.
    const second = spawnSync(process.execPath, [MAIN, "start"], {
      env: {
        PATH: process.env.PATH ?? "",
        POSTWATCH_DATA_DIR: dataDir,
        SYSLOG_HOST: "127.0.0.1",
        SYSLOG_TCP_PORT: String(await freePort()),
        SYSLOG_UDP_PORT: "0",
        METRICS_PORT: "0",
      },
      encoding: "utf8",
      timeout: 10_000,
    });
    assert.equal(second.status, 1, second.stderr);
    assert.match(second.stderr, new RegExp(`store ${dataDir} is in use by postwatch pid ${child.pid}`));
    assert.equal(readdirSync(join(dataDir, "ports")).length, 1, "no second nats-server on the store");

    await sendTcp(
      syslogPort,
      fixtureLines("sasl-bruteforce-seed002.log").map((line) => traditionalForward(line)),
      "lf",
    );
    const hook = await webhook.waitFor(
      "/hook",
      (r) => r.some((x) => (x.body as Alert).rule === "sasl_bruteforce"),
      5000,
    );
    const alert = hook.map((x) => x.body as Alert).find((a) => a.rule === "sasl_bruteforce");
    assert.equal(alert?.key.value, "176.103.49.30");

    // The detector runs on a thread of its own: its metrics, readiness and logs are the process's.
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.ok(sample(metrics, "postwatch_detector_events_total", { outcome: "processed" }) >= 96, metrics);
    assert.ok(sample(metrics, "postwatch_receiver_lines_total", { outcome: "postfix" }) >= 96);
    const families = [...metrics.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]);
    assert.deepEqual(
      families.filter((name, i) => families.indexOf(name) !== i),
      [],
      "each family once",
    );
    assert.match(
      await (await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).text(),
      /^ok: detector thread running, NATS connected$/m,
    );
    assert.match(log, /"service":"postwatch","component":"detector".*"msg":"detection rules loaded"/);

    child.kill("SIGTERM");
    assert.equal(await exited, 0, log);
    assert.match(log, /"msg":"postwatch stopped"/);
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    assert.ok(
      natsPids.every((pid) => !alive(pid)),
      "the private nats-server stopped with postwatch",
    );
  });
});
