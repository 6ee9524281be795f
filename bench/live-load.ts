/**
 * The live scenario's tools: a sender that paces syslog frames over a socket, a bounded poll, and
 * the peer it is measured against, rsyslog receiving the same frames over TCP into a file.
 */

import { createSocket } from "node:dgram";
import { open } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { freePort } from "../test/helpers/ports.js";
import { startRsyslogd } from "../test/helpers/rsyslogd.js";

export const BATCH_INTERVAL_MS = 10;
const MAX_BATCH_LINES = 2_000;
/** How long a poll waits before it gives up (undefined). */
export const SETTLE_TIMEOUT_MS = 120_000;

/** A log line as rsyslog forwards it over TCP: mail.info, LF-framed. */
export const frame = (line: string) => `<22>${line}\n`;

/** Where paced frames go: one TCP connection, or one UDP datagram per frame. */
export interface FrameSink {
  /** Resolves once the frames are handed to the kernel (TCP: when the socket has room again). */
  write(frames: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

export async function tcpSink(port: number): Promise<FrameSink> {
  const socket = connect(port, "127.0.0.1");
  await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  return {
    async write(frames) {
      if (!socket.write(frames.join(""))) await new Promise((resolve) => socket.once("drain", resolve));
    },
    close: () => new Promise<void>((resolve) => socket.end(resolve)),
  };
}

/** One datagram per frame, its LF kept (the receiver takes a trailing LF), as rsyslog's omfwd over UDP. */
export async function udpSink(port: number): Promise<FrameSink> {
  const socket = createSocket("udp4");
  socket.connect(port, "127.0.0.1");
  await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  return {
    async write(frames) {
      let last: Promise<void> = Promise.resolve();
      for (const datagram of frames) {
        last = new Promise((resolve, reject) =>
          socket.send(datagram, (error) => (error ? reject(error) : resolve())),
        );
      }
      await last;
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/**
 * Writes `frames` at `rate` per second in batches every BATCH_INTERVAL_MS (Infinity: as fast as
 * the sink takes them), calling `inject.send` once, right after the batch that passes `inject.at`.
 */
export async function sendPaced(
  sink: FrameSink,
  frames: readonly string[],
  rate: number,
  inject?: { at: number; send: () => Promise<void> },
): Promise<void> {
  const started = performance.now();
  let sent = 0;
  let pending = inject;
  while (sent < frames.length) {
    const due = Number.isFinite(rate)
      ? Math.min(frames.length, Math.floor(((performance.now() - started) / 1000) * rate))
      : frames.length;
    const end = Math.min(due, sent + MAX_BATCH_LINES);
    if (end > sent) {
      const written = sink.write(frames.slice(sent, end));
      sent = end;
      if (pending && sent > pending.at) {
        await pending.send();
        pending = undefined;
      }
      await written;
    } else {
      await new Promise((resolve) => setTimeout(resolve, BATCH_INTERVAL_MS));
    }
  }
}

/** Polls `probe` every 50 ms until it gives a value, or SETTLE_TIMEOUT_MS passes (undefined). */
export async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
): Promise<T | undefined> {
  const deadline = performance.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** rsyslog's imtcp → omfile on `frames`: lines/s from the first byte sent to the last line written. */
export async function rsyslogLinesPerSecond(frames: readonly string[], dir: string): Promise<number> {
  const port = await freePort();
  const out = join(dir, "rsyslog-out.log");
  await using rsyslogd = await startRsyslogd({
    config: [
      'module(load="imtcp")',
      `input(type="imtcp" port="${port}" address="127.0.0.1" ruleset="peer")`,
      `ruleset(name="peer") { action(type="omfile" file="${out}") }`,
    ].join("\n"),
    readyPorts: [port],
  });
  const sink = await tcpSink(port);
  const started = performance.now();
  await sendPaced(sink, frames, Number.POSITIVE_INFINITY);
  await sink.close();
  const writtenLines = lineCounter(out);
  const written = await waitFor(async () => ((await writtenLines()) >= frames.length ? true : undefined));
  if (written === undefined)
    throw new Error(`rsyslog wrote fewer than ${frames.length} lines: ${rsyslogd.output()}`);
  return (frames.length / (performance.now() - started)) * 1000;
}

/** Counts the line feeds of a growing file, reading only what was appended since the last call. */
function lineCounter(path: string): () => Promise<number> {
  let offset = 0;
  let lines = 0;
  return async () => {
    const handle = await open(path).catch(() => undefined);
    if (handle === undefined) return 0;
    try {
      const { size } = await handle.stat();
      if (size > offset) {
        const appended = Buffer.alloc(size - offset);
        await handle.read(appended, 0, appended.length, offset);
        for (let at = appended.indexOf(10); at !== -1; at = appended.indexOf(10, at + 1)) lines++;
        offset = size;
      }
    } finally {
      await handle.close();
    }
    return lines;
  };
}
