/**
 * The Docker engine the container tests drive through the `docker` CLI, at DOCKER_HOST or the
 * default socket. .ci/run starts a private dockerd and exports its DOCKER_HOST; where no engine
 * answers, the container tests skip with one line saying so.
 */
import { execFile, spawnSync } from "node:child_process";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** `command ...args`, its stdout trimmed; a failure's message carries the command's stderr. */
export async function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<string> {
  const { stdout } = await execFileAsync(command, args, {
    cwd: options.cwd,
    env: options.env,
    timeout: options.timeoutMs ?? 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout.trim();
}

export const docker = (args: string[], options: { cwd?: string; timeoutMs?: number } = {}) =>
  run("docker", args, options);

/** Why the container tests cannot run here (one line), or undefined when a Docker engine answers. */
export function dockerUnavailable(): string | undefined {
  const version = spawnSync("docker", ["version", "--format", "{{.Server.Version}}"], {
    encoding: "utf8",
    timeout: 15_000,
  });
  const where = process.env.DOCKER_HOST ?? "the default socket";
  if (version.error) return `no docker CLI (${version.error.message}); container tests skipped`;
  if (version.status !== 0) return `no Docker engine answers at ${where}; container tests skipped`;
  return undefined;
}

/** `docker compose` where the plugin is installed, else Debian's `docker-compose` (v1). */
export function composeCommand(): string[] {
  const plugin = spawnSync("docker", ["compose", "version"], { encoding: "utf8", timeout: 10_000 });
  return plugin.status === 0 ? ["docker", "compose"] : ["docker-compose"];
}
