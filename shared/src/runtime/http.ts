/**
 * The observability endpoint each service exposes: /metrics (Prometheus text), /healthz (the process
 * answers) and /readyz (every readiness check passes: NATS connected, listeners bound, ...).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export type ReadinessCheck = () => { ready: boolean; detail: string };

export interface ObservabilityServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startObservabilityServer(options: {
  host: string;
  port: number;
  registry: Registry;
  /** Prometheus text from elsewhere (a service's thread), appended to the registry's. */
  moreMetrics?: readonly (() => Promise<string>)[];
  readiness: ReadinessCheck[];
}): Promise<ObservabilityServer> {
  const more = options.moreMetrics ?? [];
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (path === "/metrics") {
      Promise.all([options.registry.metrics(), ...more.map((metrics) => metrics())])
        .then((texts) =>
          texts
            .filter(Boolean)
            .map((text) => (text.endsWith("\n") ? text : `${text}\n`))
            .join(""),
        )
        .then((body) => {
          response.writeHead(200, { "content-type": options.registry.contentType });
          response.end(body);
        })
        .catch((error: Error) => {
          response.writeHead(500, { "content-type": "text/plain" });
          response.end(`metrics collection failed: ${error.message}\n`);
        });
      return;
    }
    if (path === "/healthz") {
      response.writeHead(200, { "content-type": "text/plain" });
      response.end("ok\n");
      return;
    }
    if (path === "/readyz") {
      const results = options.readiness.map((check) => check());
      const ready = results.every((r) => r.ready);
      response.writeHead(ready ? 200 : 503, { "content-type": "text/plain" });
      response.end(`${results.map((r) => `${r.ready ? "ok" : "not ready"}: ${r.detail}`).join("\n")}\n`);
      return;
    }
    response.writeHead(404, { "content-type": "text/plain" });
    response.end("not found: try /metrics, /healthz or /readyz\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
