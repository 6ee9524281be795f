/**
 * A postwatch service (`postwatch alerter`, `postwatch detector`, …) as a child process, for tests
 * that kill it as a crash would (SIGKILL: no drain, no last acks) or read what it logs.
 */
import { type ChildProcess, spawn } from "node:child_process";

export interface ServiceProcess {
  readonly child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  log(): string;
  /** Resolves once the service logs that it runs; rejects if it exits or takes over `timeoutMs`. */
  running(timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code (or the signal that ended it) once the process has exited. */
  exited(): Promise<number | NodeJS.Signals>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

const MAIN = new URL("../../services/cli/src/main.js", import.meta.url).pathname;

export function spawnService(command: string, env: Record<string, string>): ServiceProcess {
  const child = spawn(process.execPath, [MAIN, command], {
    env: { ...env, PATH: process.env.PATH ?? "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout?.on("data", (chunk: Buffer) => (log += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (log += chunk.toString()));
  // "close", not "exit": by then stdout and stderr are read to their end.
  const exited = new Promise<number | NodeJS.Signals>((resolve) =>
    child.once("close", (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return {
    child,
    log: () => log,
    async running(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!log.includes("postwatch running")) {
        if (child.exitCode !== null) throw new Error(`${command} exited: ${log}`);
        if (Date.now() > deadline) throw new Error(`${command} not running within ${timeoutMs} ms: ${log}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    exited: () => exited,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
