/**
 * A real Alertmanager (Debian's prometheus-alertmanager) for a test: loopback only, a free port, a
 * temp storage dir, clustering off, and a route to a receiver that sends nowhere: the test reads
 * what Alertmanager holds through its API. Async-disposable.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ALERTMANAGER_BIN = process.env.ALERTMANAGER_BIN ?? "/usr/bin/prometheus-alertmanager";

export interface TestAlertmanager {
  readonly url: string;
  /** The alerts Alertmanager holds as active (resolved ones are not listed). */
  alerts(): Promise<
    {
      labels: Record<string, string>;
      annotations: Record<string, string>;
      startsAt: string;
      endsAt: string;
      generatorURL?: string;
    }[]
  >;
  [Symbol.asyncDispose](): Promise<void>;
}

const CONFIG = `route:
  receiver: nowhere
  group_wait: 1s
receivers:
  - name: nowhere
`;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startTestAlertmanager(): Promise<TestAlertmanager> {
  const dir = mkdtempSync(join(tmpdir(), "postwatch-alertmanager-"));
  writeFileSync(join(dir, "alertmanager.yml"), CONFIG);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    ALERTMANAGER_BIN,
    [
      `--config.file=${join(dir, "alertmanager.yml")}`,
      `--storage.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--cluster.listen-address=",
      "--log.level=warn",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    child.kill("SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`alertmanager did not start on ${url}: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    async alerts() {
      const response = await fetch(`${url}/api/v2/alerts`);
      return (await response.json()) as Awaited<ReturnType<TestAlertmanager["alerts"]>>;
    },
    [Symbol.asyncDispose]: stop,
  };
}
