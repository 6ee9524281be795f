/**
 * The container image's runtime stage, run without a Docker engine (test/deploy/container.test.ts
 * builds and runs the image itself where one answers): the /app tree deploy/Dockerfile's runtime
 * stage builds (its COPY lines, production dependencies from the same lockfile, test files
 * removed), read-only as Kubernetes mounts it, run as the image's USER with its ENTRYPOINT, one
 * service per process against a real nats-server. The seed's brute force must reach a webhook, and
 * the HEALTHCHECK command must pass for each service. This catches what a build would only show at
 * run time: a module outside the copied directories, a dev dependency imported at run time, a
 * write to the application directory.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { startTestNats, type TestNats } from "../helpers/nats-server.js";
import { freePort } from "../helpers/ports.js";
import { assertSeedBruteForceAlerts } from "../helpers/seed-bruteforce.js";
import { loopbackServiceEnv } from "../helpers/service-env.js";
import { startWebhookServer, type WebhookServer } from "../helpers/webhook-server.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

interface RuntimeStage {
  workdir: string;
  user: { uid: string; gid: string };
  env: Record<string, string>;
  /** Build-stage paths under /src/dist copied into the image, relative to dist/. */
  distDirs: string[];
  entrypoint: string[];
  healthcheck: string[];
}

/** The instructions of the Dockerfile's `AS runtime` stage that shape what runs. */
function readRuntimeStage(dockerfile: string): RuntimeStage {
  const text = dockerfile.replace(/\\\n/g, " ");
  const stage = text.slice(text.search(/^FROM \S+ AS runtime$/m));
  const one = (pattern: RegExp, what: string) => {
    const match = pattern.exec(stage);
    assert.ok(match?.[1], `runtime stage has no ${what}`);
    return match[1];
  };
  const [uid = "", gid = uid] = one(/^USER (\S+)$/m, "USER").split(":");
  const env: Record<string, string> = {};
  for (const [, name, value] of stage.matchAll(/^ENV (\w+)=(\S+)$/gm)) env[name as string] = value as string;
  return {
    workdir: one(/^WORKDIR (\S+)$/m, "WORKDIR"),
    user: { uid, gid },
    env,
    distDirs: [...stage.matchAll(/^COPY --from=build \/src\/dist\/(\S+) /gm)].map((m) => m[1] as string),
    entrypoint: JSON.parse(one(/^ENTRYPOINT (\[.*\])$/m, "ENTRYPOINT")) as string[],
    healthcheck: JSON.parse(one(/^HEALTHCHECK .*?CMD (\[.*\])$/m, "HEALTHCHECK CMD")) as string[],
  };
}

/**
 * `npm ci --omit=dev` without the network: the packages npm resolves from the same lockfile for
 * production, copied from the installed tree.
 */
function copyProductionDependencies(app: string): void {
  const listed = execFileSync("npm", ["ls", "--omit=dev", "--all", "--parseable"], {
    cwd: ROOT,
    encoding: "utf8",
  });
  for (const path of listed.split("\n").slice(1).filter(Boolean)) {
    const target = join(app, relative(ROOT, path));
    mkdirSync(dirname(target), { recursive: true });
    cpSync(path, target, { recursive: true });
  }
}

function buildApp(stage: RuntimeStage, app: string): void {
  mkdirSync(app, { recursive: true });
  for (const file of ["package.json", "package-lock.json"]) cpSync(join(ROOT, file), join(app, file));
  copyProductionDependencies(app);
  for (const dir of stage.distDirs) {
    cpSync(join(ROOT, "dist", dir), join(app, "dist", dir), {
      recursive: true,
      filter: (source) => !/\.test\.js(\.map)?$/.test(source),
    });
  }
}

/**
 * `argv` as the image runs it: in a mount namespace of its own where `app` is read-only, as the
 * image's user, in its WORKDIR (here `app`), with only `env`.
 */
function runAsImage(
  stage: RuntimeStage,
  app: string,
  argv: string[],
  env: Record<string, string>,
): ChildProcess {
  const [command = "", ...args] = argv;
  const script = 'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" && shift && exec "$@"';
  return spawn(
    "unshare",
    [
      "-m",
      "--",
      "sh",
      "-c",
      script,
      "sh",
      app,
      "setpriv",
      `--reuid=${stage.user.uid}`,
      `--regid=${stage.user.gid}`,
      "--clear-groups",
      "--",
      command === "node" ? process.execPath : command,
      ...args,
    ],
    { cwd: app, env: { ...stage.env, HOME: "/nonexistent", ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
}

describe("the container image's runtime stage, without Docker", () => {
  const work = mkdtempSync(join(tmpdir(), "postwatch-image-"));
  const app = join(work, "app");
  const stage = readRuntimeStage(readFileSync(join(ROOT, "deploy/Dockerfile"), "utf8"));
  const services: { name: string; child: ChildProcess; metricsPort: number; log: string }[] = [];
  let nats: TestNats;
  let webhook: WebhookServer;
  let syslogPort: number;

  before(async () => {
    assert.equal(process.getuid?.(), 0, "needs root, as CI runs: unshare -m and setpriv to the image's user");
    buildApp(stage, app);
    chmodSync(work, 0o755);
    execFileSync("chmod", ["-R", "a+rX", app]);
    nats = await startTestNats();
    webhook = await startWebhookServer();
    syslogPort = await freePort();
    for (const name of ["receiver", "detector", "alerter"]) {
      const metricsPort = await freePort();
      const child = runAsImage(stage, app, [...stage.entrypoint, name], {
        ...nats.env,
        ...loopbackServiceEnv({
          natsUrl: nats.url,
          metricsPort,
          syslogPort,
          webhookUrl: `${webhook.url}/hook`,
        }),
      });
      const service = { name, child, metricsPort, log: "" };
      child.stdout?.on("data", (chunk: Buffer) => (service.log += chunk.toString()));
      child.stderr?.on("data", (chunk: Buffer) => (service.log += chunk.toString()));
      services.push(service);
    }
    const deadline = Date.now() + 20_000;
    for (const service of services) {
      while (!service.log.includes('"msg":"postwatch running')) {
        assert.equal(service.child.exitCode, null, `${service.name} exited: ${service.log}`);
        assert.ok(Date.now() < deadline, `${service.name} not running within 20 s: ${service.log}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  });

  after(async () => {
    for (const { child } of services) child.kill("SIGTERM");
    await Promise.all(
      services.map(({ child }) =>
        child.exitCode === null ? new Promise((resolve) => child.once("exit", resolve)) : undefined,
      ),
    );
    await webhook?.[Symbol.asyncDispose]();
    await nats?.[Symbol.asyncDispose]();
    rmSync(work, { recursive: true, force: true });
  });

  it("copies only the runtime's directories, and no test file", () => {
    assert.deepEqual(stage.distDirs.sort(), ["services", "shared"]);
    const tests = execFileSync("find", [join(app, "dist"), "-name", "*.test.js"], { encoding: "utf8" });
    assert.equal(tests, "");
  });

  it("runs each service read-only as the image's user, and the seed's brute force reaches the webhook", async () => {
    await assertSeedBruteForceAlerts(syslogPort, webhook, "/hook", 10_000);
  });

  it("passes the image's HEALTHCHECK for every service", async () => {
    for (const service of services) {
      const check = runAsImage(stage, app, stage.healthcheck, { METRICS_PORT: String(service.metricsPort) });
      const code = await new Promise<number | null>((resolve) => check.once("exit", resolve));
      assert.equal(code, 0, `${service.name}'s HEALTHCHECK: ${service.log}`);
    }
  });
});
