/**
 * A real rsyslogd for a test: `rsyslogd -n -f <conf> -i <pid>` with a temp work directory, no
 * imuxsock/imjournal/imklog (nothing of the host's logging is touched). The caller's config text
 * gets a `global(workDirectory=...)` line prepended; readiness is "every given TCP port accepts".
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { acceptsConnections } from "./ports.js";

export const RSYSLOGD = process.env.RSYSLOGD_BIN ?? "/usr/sbin/rsyslogd";

export interface Rsyslogd {
  readonly process: ChildProcess;
  /** rsyslogd's own stdout/stderr so far (config errors land here). */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startRsyslogd(options: {
  /** Config after the `global(...)` line: modules, inputs, rulesets. */
  config: string;
  /** Extra `global()` parameters, e.g. `parser.permitSlashInProgramName="on"`. */
  globals?: string;
  /** imtcp ports to wait for. */
  readyPorts: readonly number[];
  timeoutMs?: number;
}): Promise<Rsyslogd> {
  const dir = mkdtempSync(join(tmpdir(), "postwatch-rsyslog-"));
  const confFile = join(dir, "rsyslog.conf");
  writeFileSync(
    confFile,
    `global(workDirectory="${dir}" ${options.globals ?? ""})\n${options.config}\n`,
    "utf8",
  );
  // TZ pinned: rsyslog stamps RFC 3164 input with the *current* local UTC offset when it re-renders
  // the time as RFC 3339, whatever the date; UTC keeps the expected timestamps exact.
  const child = spawn(RSYSLOGD, ["-n", "-f", confFile, "-i", join(dir, "rsyslogd.pid")], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", TZ: "UTC" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const gone = () => child.exitCode !== null || child.signalCode !== null;

  const stop = async (graceMs = 3000) => {
    if (!gone()) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  for (const port of options.readyPorts) {
    for (;;) {
      if (gone()) {
        await stop();
        throw new Error(`rsyslogd exited before it was ready: ${output.trim()}`);
      }
      if (await acceptsConnections(port)) break;
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`rsyslogd did not listen on ${port} in time: ${output.trim()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return {
    process: child,
    output: () => output,
    stop,
    [Symbol.asyncDispose]: () => stop(),
  };
}

/** A snippet from deploy/rsyslog/ as shipped, pointed at the receiver on this machine's `port`. */
export function shippedRsyslogSnippet(name: string, port: number): string {
  return readFileSync(new URL(`../../../deploy/rsyslog/${name}`, import.meta.url), "utf8")
    .replaceAll("postwatch.example.net", "127.0.0.1")
    .replaceAll('port="5514"', `port="${port}"`);
}
