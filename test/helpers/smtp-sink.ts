/**
 * The Internet, as a test's Postfix sees it (`internetPort` in postfix.ts): one SMTP server on
 * loopback that answers every remote domain's deliveries by a policy the test gives, the way remote
 * MTAs do: an unknown user is refused at RCPT, content they judge as spam or a virus at the end of
 * DATA. It keeps no mail, only what it answered to whom.
 */
import { createServer, type Socket } from "node:net";

export interface InternetPolicy {
  /** The reply refusing `recipient` at RCPT TO (`550 5.1.1 ...`), or undefined to accept it. */
  rcpt(recipient: string): string | undefined;
  /** The reply refusing a message at the end of DATA, given its accepted recipients and text; undefined: 250. */
  data(recipients: readonly string[], message: string): string | undefined;
}

export interface Answer {
  recipient: string;
  /** The SMTP reply the recipient got: at RCPT, or the end-of-DATA reply for its transaction. */
  reply: string;
}

export interface SmtpSink {
  readonly port: number;
  /** Every recipient answered so far, in order. */
  readonly answers: readonly Answer[];
  close(): Promise<void>;
}

export async function startSmtpSink(policy: InternetPolicy): Promise<SmtpSink> {
  const answers: Answer[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    serveSession(socket, policy, answers);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the SMTP sink has no port");
  return {
    port: address.port,
    answers,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** One SMTP session in lockstep (no PIPELINING offered, so the client waits for each reply). */
function serveSession(socket: Socket, policy: InternetPolicy, answers: Answer[]): void {
  let accepted: string[] = [];
  let message: string[] | undefined;
  let pending = "";
  const reply = (text: string) => socket.write(`${text}\r\n`);
  const onLine = (line: string) => {
    if (message !== undefined) {
      if (line !== ".") {
        message.push(line.startsWith("..") ? line.slice(1) : line);
        return;
      }
      const refusal = policy.data(accepted, message.join("\n"));
      for (const recipient of accepted) answers.push({ recipient, reply: refusal ?? "250 2.0.0 Ok" });
      reply(refusal ?? "250 2.0.0 Ok: queued");
      accepted = [];
      message = undefined;
      return;
    }
    const verb = line.slice(0, 4).toUpperCase();
    if (verb === "EHLO" || verb === "HELO") reply("250 internet.test");
    else if (verb === "MAIL" || verb === "RSET" || verb === "NOOP") {
      if (verb !== "NOOP") accepted = [];
      reply("250 2.1.0 Ok");
    } else if (verb === "RCPT") {
      const recipient = /<([^>]*)>/.exec(line)?.[1] ?? "";
      const refusal = policy.rcpt(recipient);
      if (refusal === undefined) accepted.push(recipient);
      else answers.push({ recipient, reply: refusal });
      reply(refusal ?? "250 2.1.5 Ok");
    } else if (verb === "DATA") {
      if (accepted.length === 0) reply("554 5.5.1 Error: no valid recipients");
      else {
        message = [];
        reply("354 End data with <CR><LF>.<CR><LF>");
      }
    } else if (verb === "QUIT") {
      reply("221 2.0.0 Bye");
      socket.end();
    } else reply("502 5.5.2 Error: command not recognized");
  };
  reply("220 internet.test ESMTP");
  socket.on("data", (chunk) => {
    pending += chunk.toString("latin1");
    for (let end = pending.indexOf("\r\n"); end !== -1; end = pending.indexOf("\r\n")) {
      onLine(pending.slice(0, end));
      pending = pending.slice(end + 2);
    }
  });
}
