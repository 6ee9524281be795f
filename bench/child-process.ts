/**
 * The one way bench scenarios and parity tests run another program: a deadline (the process group
 * is killed when it passes), wall time measured from spawn to exit, and errors that say what to do.
 */
import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";

export interface ChildRun {
  stdout: string;
  stderr: string;
  wallMs: number;
}

export interface ChildOptions {
  timeoutMs: number;
  /** Debian package that provides the command, named in the error when it is missing. */
  aptPackage?: string;
  /** Exit codes that are not failures (`grep -c` exits 1 when it counts 0). */
  okExitCodes?: readonly number[];
}

export class MissingProgramError extends Error {
  override readonly name = "MissingProgramError";
}

export function runWithDeadline(
  command: string,
  args: readonly string[],
  options: ChildOptions,
): Promise<ChildRun> {
  const okExitCodes = options.okExitCodes ?? [0];
  const commandLine = [command, ...args].join(" ");
  return new Promise((resolve, reject) => {
    const started = performance.now();
    // Its own process group, so the deadline also stops anything the command started.
    const child = spawn(command, args, { detached: true, stdio: ["ignore", "pipe", "pipe"] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    }, options.timeoutMs);
    child.on("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(deadline);
      if (error.code !== "ENOENT") return reject(error);
      const install = options.aptPackage === undefined ? "" : ` (apt-get install ${options.aptPackage})`;
      reject(new MissingProgramError(`${command} is not installed${install}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(deadline);
      const wallMs = performance.now() - started;
      const run = {
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
        wallMs,
      };
      if (timedOut)
        return reject(new Error(`${commandLine}: still running after ${options.timeoutMs} ms, killed`));
      if (code === null || !okExitCodes.includes(code))
        return reject(new Error(`${commandLine}: exited with ${code ?? signal}\n${run.stderr.slice(-2000)}`));
      resolve(run);
    });
  });
}
