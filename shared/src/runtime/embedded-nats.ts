/**
 * A private `nats-server -js` child process, for `postwatch start` without NATS_URL and for tests.
 * It listens on 127.0.0.1 with a port the server picks (`-p -1`, read back from its ports file), so
 * it never collides with a NATS already on the machine, and keeps JetStream data under `storeDir`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { delimiter, join } from "node:path";
import { lockStore } from "./store-lock.js";

export class NatsServerMissingError extends Error {
  override readonly name = "NatsServerMissingError";
  /** `problem`: what is wrong with NATS_SERVER_BIN, when it was set. */
  constructor(problem?: string) {
    super(
      problem
        ? `NATS_SERVER_BIN: ${problem}`
        : `nats-server was not found on PATH or in ${EXTRA_BINARY_DIRS.join(", ")}. Install it (Debian/Ubuntu: apt-get install nats-server; ` +
            "others: https://docs.nats.io/running-a-nats-service/introduction/installation), name it with NATS_SERVER_BIN, or set NATS_URL to a running NATS server with JetStream.",
    );
  }
}

export interface EmbeddedNats {
  readonly url: string;
  readonly port: number;
  readonly process: ChildProcess;
  /** Stops the server (SIGTERM, then SIGKILL after a grace period). */
  stop(): Promise<void>;
}

const EXTRA_BINARY_DIRS = ["/usr/sbin", "/usr/local/sbin", "/usr/local/bin"];

/** NATS_SERVER_BIN names the binary outright; otherwise PATH, then the sbin directories Debian uses. */
export function findNatsServer(env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (env.NATS_SERVER_BIN) {
    const problem = whyNotExecutable(env.NATS_SERVER_BIN);
    if (problem) throw new NatsServerMissingError(problem);
    return env.NATS_SERVER_BIN;
  }
  for (const dir of [...(env.PATH ?? "").split(delimiter).filter(Boolean), ...EXTRA_BINARY_DIRS]) {
    const candidate = join(dir, "nats-server");
    if (whyNotExecutable(candidate) === undefined) return candidate;
  }
  throw new NatsServerMissingError();
}

/** What keeps `path` from being run, in words that say what is true; undefined if it can be. */
export function whyNotExecutable(path: string): string | undefined {
  try {
    if (statSync(path).isDirectory()) return `${path} is a directory, not the nats-server program`;
    accessSync(path, constants.X_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return `${path} does not exist`;
    if (code === "EACCES") return `${path} is not executable (or not readable by this user)`;
    return `${path}: ${(error as Error).message}`;
  }
}

export async function startEmbeddedNats(options: {
  storeDir: string;
  port?: number;
  startTimeoutMs?: number;
  env?: Readonly<Record<string, string | undefined>>;
  /** More nats-server arguments (`--user`, `--pass` for a test of NATS credentials). */
  extraArgs?: readonly string[];
}): Promise<EmbeddedNats> {
  const binary = findNatsServer(options.env);
  const lock = lockStore(options.storeDir);
  const portsDir = join(options.storeDir, "ports");
  mkdirSync(portsDir, { recursive: true });
  const args = [
    "-a",
    "127.0.0.1",
    "-p",
    String(options.port ?? -1),
    "-js",
    "-sd",
    options.storeDir,
    "--ports_file_dir",
    portsDir,
    ...(options.extraArgs ?? []),
  ];
  const child = spawn(binary, args, { stdio: ["ignore", "ignore", "pipe"] });
  if (child.pid !== undefined) lock.recordNatsPid(child.pid);
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      lock.release();
      resolve(code);
    }),
  );
  // A binary that cannot be spawned emits "error" and never "exit".
  child.once("error", () => lock.release());

  const port = await waitForPortsFile(
    portsDir,
    child,
    exited,
    options.startTimeoutMs ?? 10_000,
    () => stderr,
  );
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function waitForPortsFile(
  portsDir: string,
  child: ChildProcess,
  exited: Promise<number | null>,
  timeoutMs: number,
  stderr: () => string,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  const file = `nats-server_${child.pid}.ports`;
  let stopped = false;
  void exited.then(() => {
    stopped = true;
  });
  while (Date.now() < deadline) {
    if (stopped)
      throw new Error(`nats-server exited before it was ready: ${stderr().trim().split("\n").pop() ?? ""}`);
    if (readdirSync(portsDir).includes(file)) {
      try {
        const ports = JSON.parse(readFileSync(join(portsDir, file), "utf8")) as { nats?: string[] };
        const address = ports.nats?.[0];
        if (address) return Number(new URL(address).port);
      } catch {
        // written but not complete yet
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  child.kill("SIGKILL");
  throw new Error(`nats-server did not become ready within ${timeoutMs} ms`);
}
