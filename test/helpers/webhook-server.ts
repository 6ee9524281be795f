/** A local HTTP server that records webhook POSTs, with scripted status codes for fault tests. */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import type { Alert } from "../../shared/src/contracts/alerts.js";

export interface RecordedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
  /** The body as it arrived, for checks that need its exact bytes (signatures). */
  rawBody: string;
  /** Date.now() when the body had arrived, for latency measurements. */
  receivedAtMs: number;
}

export interface WebhookServer {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Status codes to answer with, in order; 200 once they run out. */
  respondWith(statuses: number[]): void;
  /** Resolves with the requests on `path` once `predicate` holds for them, or rejects after `timeoutMs`. */
  waitFor(
    path: string,
    predicate: (requests: RecordedRequest[]) => boolean,
    timeoutMs: number,
  ): Promise<RecordedRequest[]>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startWebhookServer(): Promise<WebhookServer> {
  const requests: RecordedRequest[] = [];
  let script: number[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const status = script.shift() ?? 200;
      if (status === 200) {
        const text = Buffer.concat(chunks).toString("utf8");
        requests.push({
          path: request.url ?? "/",
          headers: request.headers,
          body: JSON.parse(text),
          rawBody: text,
          receivedAtMs: Date.now(),
        });
      }
      response.writeHead(status, { "content-type": "text/plain" });
      response.end(status === 200 ? "ok" : "try again");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    respondWith(statuses) {
      script = [...statuses];
    },
    async waitFor(path, predicate, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const matching = requests.filter((r) => r.path === path);
        if (predicate(matching)) return matching;
        if (Date.now() > deadline)
          throw new Error(
            `timed out after ${timeoutMs} ms waiting for ${path}; got ${matching.length} requests`,
          );
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The firing alerts of `rule` among the recorded requests, in the order they came. */
export function firingAlerts(requests: readonly RecordedRequest[], rule: string): Alert[] {
  return requests
    .map((request) => request.body as Alert)
    .filter((alert) => alert.rule === rule && alert.state === "firing");
}
