/**
 * One service of a process run on a thread of its own (`worker_threads`), so that `postwatch start`
 * uses a second core: the detector's work and the receiver's no longer take turns on one thread.
 * The service's code is the same; only the wiring differs. The thread loads its config from the same
 * environment, opens its own NATS connection, and keeps its metrics in a registry of its own, which
 * the process's /metrics serves alongside the rest (see `metrics` below). Its logs go to the same
 * stdout, in the same format, with the same `service` and `component` fields.
 *
 * Messages, thread → process: `started` (with the banner), `failed` (the start's error), `nats`
 * (connection state, for /readyz), `metrics` (an answer), `drained`. Process → thread: `metrics`
 * (a question, by id), `drain`.
 */
import { Worker } from "node:worker_threads";
import type { Env } from "./config.js";
import type { CommonServiceConfig, ServiceDefinition, ServiceHandle } from "./service.js";

/** Where the thread finds the definition: a module and the name it exports it under. */
export interface ServiceSource {
  /** A file: URL (`new URL("../../detector/src/index.js", import.meta.url).href`). */
  module: string;
  exportName: string;
}

export interface ServiceWorkerData {
  source: ServiceSource;
  env: Env;
  processName: string;
  /** Whether the process's stdout is a terminal: a thread's own stdout is a pipe to the process. */
  stdoutIsTerminal: boolean;
}

export type ThreadMessage =
  | { type: "started"; banner?: Record<string, string> }
  | { type: "failed"; name: string; message: string; stack?: string; code?: string }
  | { type: "nats"; connected: boolean }
  | { type: "metrics"; id: number; text: string }
  | { type: "drained" };

export type ProcessMessage = { type: "metrics"; id: number } | { type: "drain" };

const THREAD = new URL("./service-thread.js", import.meta.url);

/**
 * `definition` run on a thread: same name and config; its start spawns the thread and resolves
 * once the service there has started (or rejects with its error, name and message kept, so that
 * an operator's mistake still reads as one line).
 */
export function onThread<C extends CommonServiceConfig>(
  definition: ServiceDefinition<C>,
  source: ServiceSource,
  env: Env,
  processName: string,
): ServiceDefinition<C> {
  return {
    name: definition.name,
    loadConfig: definition.loadConfig,
    start: () =>
      startThread(definition.name, {
        source,
        env,
        processName,
        stdoutIsTerminal: process.stdout.isTTY === true,
      }),
  };
}

async function startThread(name: string, data: ServiceWorkerData): Promise<ServiceHandle> {
  const worker = new Worker(THREAD, { workerData: data });
  let natsConnected = true;
  let running = false;
  let exited = false;
  let nextId = 0;
  const pending = new Map<number, (text: string) => void>();
  let drained: (() => void) | undefined;
  const exit = new Promise<void>((resolve) =>
    worker.once("exit", () => {
      exited = true;
      for (const answer of pending.values()) answer("");
      pending.clear();
      resolve();
    }),
  );
  const started = new Promise<Record<string, string> | undefined>((resolve, reject) => {
    worker.on("message", (message: ThreadMessage) => {
      switch (message.type) {
        case "started":
          running = true;
          resolve(message.banner);
          break;
        case "failed":
          // Name and code kept: the command line tells an operator's mistake by them.
          reject(
            Object.assign(new Error(message.message), {
              name: message.name,
              code: message.code,
              stack: message.stack,
            }),
          );
          break;
        case "nats":
          natsConnected = message.connected;
          break;
        case "metrics":
          pending.get(message.id)?.(message.text);
          pending.delete(message.id);
          break;
        case "drained":
          drained?.();
          break;
      }
    });
    // Before it started: the start failed. After: a crash of the service, as it would crash the
    // process were it on the main thread.
    worker.once("error", (error) => {
      if (!running) reject(error);
      else throw error;
    });
    void exit.then(() => reject(new Error(`the ${name} thread exited before it started`)));
  });
  const banner = await started.catch(async (error: Error) => {
    await worker.terminate();
    throw error;
  });
  const post = (message: ProcessMessage) => worker.postMessage(message);
  return {
    banner,
    readiness: [
      () => ({
        ready: !exited && natsConnected,
        detail: exited
          ? `${name} thread stopped`
          : `${name} thread running, NATS ${natsConnected ? "connected" : "disconnected"}`,
      }),
    ],
    metrics: () =>
      exited
        ? Promise.resolve("")
        : new Promise((resolve) => {
            const id = nextId++;
            pending.set(id, resolve);
            post({ type: "metrics", id });
          }),
    async drain() {
      if (exited) return;
      await new Promise<void>((resolve) => {
        drained = resolve;
        void exit.then(resolve);
        post({ type: "drain" });
      });
      await worker.terminate();
    },
  };
}
