import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { lockStore, STORE_LOCK_FILE, StoreLockedError } from "./store-lock.js";

describe("JetStream store lock", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "postwatch-lock-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("refuses a second owner, naming the folder and the holder's pid, until the first releases", () => {
    const first = lockStore(dir);
    assert.throws(
      () => lockStore(dir),
      (error: Error) =>
        error instanceof StoreLockedError &&
        error.message.includes(dir) &&
        error.message.includes(`pid ${process.pid}`),
    );
    first.release();
    lockStore(dir).release();
  });

  it("takes over a lock whose owner and nats-server are gone", () => {
    writeFileSync(
      join(dir, STORE_LOCK_FILE),
      JSON.stringify({ pid: 999_999_999, nats: { pid: 999_999_998 } }),
    );
    const lock = lockStore(dir);
    assert.equal(JSON.parse(readFileSync(join(dir, STORE_LOCK_FILE), "utf8")).pid, process.pid);
    lock.release();
  });

  it("takes over a lock file cut short by a crash", () => {
    writeFileSync(join(dir, STORE_LOCK_FILE), '{"pi');
    lockStore(dir).release();
  });

  it("takes over a lock left with this pid by an earlier process (a restarted container's pid 1)", () => {
    writeFileSync(join(dir, STORE_LOCK_FILE), JSON.stringify({ pid: process.pid, startTime: "1" }));
    lockStore(dir).release();
  });

  it("refuses while the dead owner's nats-server still runs on the store", () => {
    const natsPid = process.ppid;
    writeFileSync(join(dir, STORE_LOCK_FILE), JSON.stringify({ pid: 999_999_999, nats: { pid: natsPid } }));
    assert.throws(
      () => lockStore(dir),
      new RegExp(`nats-server pid ${natsPid}, left running by postwatch pid 999999999`),
    );
  });
});
