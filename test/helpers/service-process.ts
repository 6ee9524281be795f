/**
 * `postwatch alerter` as a child process, for tests that kill it as a crash would (SIGKILL: no
 * drain, no last acks) or read what it logs.
 */
import { type ChildProcess, spawn } from "node:child_process";

export interface AlerterProcess {
  readonly child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  log(): string;
  /** Resolves once the alerter logs that it runs; rejects if it exits or takes over `timeoutMs`. */
  running(timeoutMs?: number): Promise<void>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

const MAIN = new URL("../../services/cli/src/main.js", import.meta.url).pathname;

export function spawnAlerter(env: Record<string, string>): AlerterProcess {
  const child = spawn(process.execPath, [MAIN, "alerter"], {
    env: { ...env, PATH: process.env.PATH ?? "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout?.on("data", (chunk: Buffer) => (log += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    child,
    log: () => log,
    async running(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!log.includes("postwatch running")) {
        if (child.exitCode !== null) throw new Error(`alerter exited: ${log}`);
        if (Date.now() > deadline) throw new Error(`alerter not running within ${timeoutMs} ms: ${log}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
