/** Sends syslog lines to a receiver the way rsyslog does: UDP datagrams, or TCP with LF or octet-counted framing. */
import { createSocket } from "node:dgram";
import { connect, type Socket } from "node:net";

/** `from`: the loopback address to send from (any of 127.0.0.0/8), for source allowlist tests. */
export async function sendTcp(
  port: number,
  frames: readonly string[],
  framing: "lf" | "octet-counted",
  from?: string,
): Promise<void> {
  const payload = frames
    .map((frame) => (framing === "lf" ? `${frame}\n` : `${Buffer.byteLength(frame)} ${frame}`))
    .join("");
  await new Promise<void>((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1", localAddress: from }, () => socket.end(payload));
    socket.on("error", reject);
    socket.on("close", () => resolve());
  });
}

/**
 * Writes `wire` as it is (framing errors included) on one connection. Ends it and resolves once it
 * closes; with `keepOpen`, resolves with the open socket once the bytes are written.
 */
export function sendRaw(
  port: number,
  wire: string,
  options: { keepOpen?: boolean } = {},
): Promise<Socket | undefined> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1" }, () => {
      if (options.keepOpen) socket.write(wire, () => resolve(socket));
      else socket.end(wire);
    });
    socket.on("error", reject);
    socket.on("close", () => resolve(undefined));
  });
}

export async function sendUdp(port: number, frames: readonly string[], from?: string): Promise<void> {
  const socket = createSocket("udp4");
  if (from !== undefined) await new Promise<void>((resolve) => socket.bind(0, from, () => resolve()));
  for (const frame of frames) {
    await new Promise<void>((resolve, reject) =>
      socket.send(frame, port, "127.0.0.1", (error) => (error ? reject(error) : resolve())),
    );
  }
  await new Promise<void>((resolve) => socket.close(() => resolve()));
}
