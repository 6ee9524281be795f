/**
 * Child entry for the engine-keys scenario: `node --expose-gc dist/bench/measure-engine-keys.js N`
 * feeds N SASL failures from N distinct client addresses through AuthSessions and DetectionEngine with the default
 * rules, then a second pass over the same addresses (every key now exists), and prints one JSON line.
 */
import { performance } from "node:perf_hooks";
import { AuthSessions } from "../services/detector/src/engine/auth-sessions.js";
import { DetectionEngine } from "../services/detector/src/engine/engine.js";
import { loadRules } from "../services/detector/src/rules/index.js";
import type { PostfixEvent } from "../shared/src/contracts/events.js";

const keys = Number(process.argv[2] ?? 1_000_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with node --expose-gc");

const START_MS = Date.UTC(2026, 10, 3);
/** Both passes fit in sasl_bruteforce's 10 minute window, so no key ages out between them. */
const SPACING_MS = 500_000 / keys;

/** Address n as IPv4 in 10.0.0.0/8: 16.7 million distinct values. */
const ipOf = (n: number) => `10.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

function failure(n: number, atMs: number): PostfixEvent {
  return {
    v: 1,
    kind: "sasl_auth_failed",
    ts: new Date(atMs).toISOString(),
    host: "mx1",
    program: "postfix/smtpd",
    daemon: "smtpd",
    pid: 3000 + (n % 29_000),
    mechanism: "LOGIN",
    reason: "Password:",
    client: { host: "unknown", ip: ipOf(n) },
  };
}

const heapAfterGcKb = () => {
  gc();
  return process.memoryUsage().heapUsed / 1024;
};

const engine = new DetectionEngine({ rules: loadRules({}) });
const sessions = new AuthSessions();
const baselineHeapKb = heapAfterGcKb();
const passes = [];
let alerts = 0;
for (let pass = 0; pass < 2; pass++) {
  const started = performance.now();
  for (let n = 0; n < keys; n++) {
    const event = failure(n, START_MS + (pass * keys + n) * SPACING_MS);
    alerts += engine.process(event, sessions.observe(event)).length;
  }
  const ms = performance.now() - started;
  passes.push({
    events: keys,
    ms,
    heapKb: heapAfterGcKb() - baselineHeapKb,
    rssKb: process.memoryUsage().rss / 1024,
  });
}
const { rules } = engine.stats();
process.stdout.write(
  `${JSON.stringify({ keys, passes, alerts, maxRssKb: process.resourceUsage().maxRSS, rules })}\n`,
);
