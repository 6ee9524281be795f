/**
 * A local HTTP server standing in for Slack and webhook endpoints in fault tests. Unlike
 * webhook-server.ts it records every request (failed ones too) with its arrival time and the answer
 * it got, and a responder function decides each answer: status, headers, or a dropped connection.
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  /** Destroy the socket instead of answering (a network error for the client). */
  drop?: boolean;
  /** Never answer: the client waits until its own timeout. */
  hang?: boolean;
}

export interface ScriptedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  text: string;
  body: unknown;
  at: number;
  answer: Answer;
  /** When the client gave up on a hanging request (closed its connection). */
  closedAt?: number;
}

export type Responder = (request: Omit<ScriptedRequest, "answer">) => Answer;

export interface ScriptedHttpServer {
  readonly url: string;
  readonly requests: ScriptedRequest[];
  respond(responder: Responder): void;
  /** Resolves with the matching requests once `predicate` holds for them; rejects after `timeoutMs`. */
  waitFor(
    filter: (request: ScriptedRequest) => boolean,
    predicate: (requests: ScriptedRequest[]) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<ScriptedRequest[]>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startScriptedHttpServer(): Promise<ScriptedHttpServer> {
  const requests: ScriptedRequest[] = [];
  let responder: Responder = () => ({ status: 200 });
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      const seen = { path: request.url ?? "/", headers: request.headers, text, body, at: Date.now() };
      const answer = responder(seen);
      const recorded: ScriptedRequest = { ...seen, answer };
      requests.push(recorded);
      if (answer.hang) {
        request.socket.once("close", () => (recorded.closedAt = Date.now()));
        return;
      }
      if (answer.drop) {
        request.socket.destroy();
        return;
      }
      response.writeHead(answer.status, { "content-type": "text/plain", ...answer.headers });
      response.end(answer.status < 300 ? "ok" : "nope");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const close = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    respond(next) {
      responder = next;
    },
    async waitFor(filter, predicate, timeoutMs, what) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const matching = requests.filter(filter);
        if (predicate(matching)) return matching;
        if (Date.now() > deadline)
          throw new Error(
            `timed out after ${timeoutMs} ms waiting for ${what}; got ${matching.length} requests`,
          );
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
