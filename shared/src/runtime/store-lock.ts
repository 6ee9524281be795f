/**
 * One owner per JetStream store: two nats-servers writing one store directory corrupt it, and two
 * `postwatch start` in one folder would otherwise do exactly that. The lock is a file created with
 * O_EXCL holding the owner's pid and, once started, its nats-server's pid. A lock whose processes
 * are all gone (a crash, a kill -9, a reboot) is taken over.
 */
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";

export const STORE_LOCK_FILE = "postwatch.lock";

export class StoreLockedError extends Error {
  override readonly name = "StoreLockedError";
}

/** A process by pid and start time: in a restarted container the new owner has the old one's pid. */
interface ProcessIdentity {
  pid: number;
  startTime?: string;
}

interface LockHolder extends ProcessIdentity {
  nats?: ProcessIdentity;
}

export interface StoreLock {
  /** Records the nats-server child, so a lock left by a killed owner still guards a surviving child. */
  recordNatsPid(pid: number): void;
  release(): void;
}

/** `alive`: whether that process still runs (injected so tests can say "dead"). */
export function lockStore(
  storeDir: string,
  alive: (process: ProcessIdentity) => boolean = processAlive,
): StoreLock {
  mkdirSync(storeDir, { recursive: true });
  const path = join(storeDir, STORE_LOCK_FILE);
  const holder: LockHolder = identify(process.pid);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, JSON.stringify(holder));
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const text = readText(path);
    const existing = parseHolder(text);
    if (existing && alive(existing)) {
      throw new StoreLockedError(
        `the JetStream store ${storeDir} is in use by postwatch pid ${existing.pid}: stop it, or give this one another POSTWATCH_DATA_DIR`,
      );
    }
    if (existing?.nats && alive(existing.nats)) {
      throw new StoreLockedError(
        `the JetStream store ${storeDir} is still used by nats-server pid ${existing.nats.pid}, left running by postwatch pid ${existing.pid}: stop it (kill ${existing.nats.pid}) and start again`,
      );
    }
    if (attempt > 0)
      throw new StoreLockedError(
        `the JetStream store ${storeDir}: another start is taking over its stale lock`,
      );
    takeOverStale(path, text);
  }
  return {
    recordNatsPid(natsPid) {
      holder.nats = identify(natsPid);
      writeFileSync(path, JSON.stringify(holder));
    },
    release() {
      if (parseHolder(readText(path))?.pid === process.pid) rmSync(path, { force: true });
    },
  };
}

/**
 * Moves a stale lock aside in one step. Of two starts taking it over at once, the second may move
 * the first one's fresh lock instead: it puts that back, and its next attempt finds the lock held.
 */
function takeOverStale(path: string, staleText: string): void {
  const aside = `${path}.stale-${process.pid}`;
  try {
    renameSync(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  if (readText(aside) !== staleText) renameSync(aside, path);
  else rmSync(aside, { force: true });
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** The holder a lock file names; undefined for a file cut short (an owner killed mid-write): stale. */
function parseHolder(text: string): LockHolder | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<LockHolder>;
    return typeof parsed.pid === "number" ? (parsed as LockHolder) : undefined;
  } catch {
    return undefined;
  }
}

function identify(pid: number): ProcessIdentity {
  const startTime = startTimeOf(pid);
  return startTime === undefined ? { pid } : { pid, startTime };
}

/** Linux's start time of a process (field 22 of /proc/PID/stat, after the parenthesised name). */
function startTimeOf(pid: number): string | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
}

function processAlive({ pid, startTime }: ProcessIdentity): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists, under another user.
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  return startTime === undefined || startTimeOf(pid) === undefined || startTimeOf(pid) === startTime;
}
