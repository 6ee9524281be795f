/** SMTP clients for the real-Postfix tests: swaks, and raw sockets for what swaks will not do. */
import { execFile } from "node:child_process";
import { connect } from "node:net";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * swaks, the SMTP test tool, with `args`; resolves with its transcript whatever the server answered
 * (a rejection is what most tests ask for).
 */
async function swaks(args: readonly string[]): Promise<string> {
  try {
    return (await run("swaks", ["--timeout", "15", ...args], { timeout: 30_000 })).stdout;
  } catch (error) {
    // A refusal is an exit code, or SIGPIPE when the server hung up first (`421 too many errors`);
    // only a swaks that could not start, or ran past its deadline, is a failure.
    const failed = error as { stdout?: string; killed?: boolean };
    if (failed.stdout !== undefined && failed.stdout !== "" && !failed.killed) return failed.stdout;
    throw error;
  }
}

/** One SMTP session by swaks, described rather than spelled as flags. */
export interface SmtpSession {
  port: number;
  /** The client's own loopback address (127.0.0.0/8), so each actor of a scenario is its own client. */
  localAddress?: string;
  ehlo?: string;
  /** STARTTLS before anything else. */
  tls?: boolean;
  auth?: { mechanism: "PLAIN" | "LOGIN"; user: string; password: string };
  /** QUIT right after AUTH: a password guess, no mail. */
  authOnly?: boolean;
  from?: string;
  to?: string | readonly string[];
  /** Header lines to set, each replacing swaks's own of that name (`To:` for a list sent as Bcc). */
  header?: string | readonly string[];
  body?: string;
}

export function smtpSession(session: SmtpSession): Promise<string> {
  const args = ["--server", "127.0.0.1", "--port", String(session.port)];
  if (session.localAddress !== undefined) args.push("--local-interface", session.localAddress);
  if (session.ehlo !== undefined) args.push("--ehlo", session.ehlo);
  if (session.tls) args.push("--tls");
  const { auth } = session;
  if (auth !== undefined)
    args.push("--auth", auth.mechanism, "--auth-user", auth.user, "--auth-password", auth.password);
  if (session.authOnly) args.push("--quit-after", "AUTH");
  if (session.from !== undefined) args.push("-f", session.from);
  const { to } = session;
  if (to !== undefined) args.push("-t", typeof to === "string" ? to : to.join(","));
  for (const header of typeof session.header === "string" ? [session.header] : (session.header ?? []))
    args.push("--header", header);
  if (session.body !== undefined) args.push("--body", session.body);
  return swaks(args);
}

export interface SmtpTalk {
  /** @default "127.0.0.1" */
  address?: string;
  /** The client's own address (see SmtpSession). */
  localAddress?: string;
  /** Sent as soon as the connection opens, before the greeting: what postscreen calls PREGREET. */
  pregreet?: string;
  /** Sent one per reply, after the greeting (postscreen answers no pregreeting: it discards it). */
  commands: readonly string[];
  /** End with QUIT; otherwise the connection is dropped after the last reply. */
  quit: boolean;
}

/**
 * A scripted SMTP client for what swaks will not do (talk before the greeting, hang up without
 * QUIT). Resolves with the server's replies, one string per reply.
 */
export function smtpTalk(port: number, talk: SmtpTalk): Promise<string[]> {
  const commands = [...talk.commands, ...(talk.quit ? ["QUIT"] : [])];
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: talk.address ?? "127.0.0.1", localAddress: talk.localAddress });
    const replies: string[] = [];
    let pending = "";
    let sent = 0;
    socket.setTimeout(15_000, () =>
      socket.destroy(new Error(`SMTP talk stalled after ${replies.length} replies`)),
    );
    socket.once("error", reject);
    socket.once("close", () => resolve(replies));
    socket.once("connect", () => {
      if (talk.pregreet !== undefined) socket.write(`${talk.pregreet}\r\n`);
    });
    socket.on("data", (chunk) => {
      pending += chunk.toString();
      // A reply ends at its line `NNN text` (a space, not a dash, after the code).
      for (let end = finalLineEnd(pending); end !== -1; end = finalLineEnd(pending)) {
        replies.push(pending.slice(0, end));
        pending = pending.slice(end);
      }
      // The greeting, then one reply per command.
      if (replies.length < 1 + sent) return;
      if (sent < commands.length) socket.write(`${commands[sent++]}\r\n`);
      else socket.destroy();
    });
  });
}

/** The end of the first complete reply in `text`, or -1. */
function finalLineEnd(text: string): number {
  const match = /^\d{3} [^\n]*\n/m.exec(text);
  return match === null ? -1 : match.index + match[0].length;
}

/**
 * Waits for the greeting, writes `text` in one go (pipelined commands, garbage, a TLS hello where
 * none belongs), then hangs up once the server has been quiet for `settleMs`. Resolves with all the
 * server said.
 */
export function sendRaw(
  port: number,
  text: string,
  { settleMs = 500, localAddress }: { settleMs?: number; localAddress?: string } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1", localAddress });
    let received = "";
    let quiet: NodeJS.Timeout | undefined;
    const settle = () => {
      clearTimeout(quiet);
      quiet = setTimeout(() => socket.destroy(), settleMs);
    };
    socket.setTimeout(15_000, () => socket.destroy(new Error("no greeting within 15 s")));
    socket.once("error", reject);
    socket.once("close", () => {
      clearTimeout(quiet);
      resolve(received);
    });
    socket.on("data", (chunk) => {
      if (received === "") socket.write(text);
      received += chunk.toString("latin1");
      settle();
    });
  });
}
