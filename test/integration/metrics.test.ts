/**
 * /metrics of the whole pipeline after real traffic: it passes `promtool check metrics` (the
 * Prometheus linter: _total suffixes, base units, help text, ...), and no label value carries an IP
 * address or an email address, although the traffic is full of both and of SASL user names.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { RunningServices } from "../../shared/src/runtime/service.js";
import { fixtureLines, traditionalForward } from "../helpers/fixtures.js";
import { sample, scrape, waitForMetrics } from "../helpers/metrics.js";
import { startTestPipeline, type TestPipeline } from "../helpers/pipeline.js";
import { documentedNames, undocumented } from "../helpers/reference-docs.js";
import { sendTcp, sendUdp } from "../helpers/syslog-client.js";

const PROMTOOL = process.env.PROMTOOL_BIN ?? "promtool";
const IPV4 = /(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])/;
/** Two or more hex groups joined by colons, or anything with `::`: an IPv6 address or a piece of one. */
const IPV6 = /(?:^|[^\w:])(?:[0-9a-f]{1,4}:){2,}[0-9a-f]{0,4}|::/i;
const EMAIL = /[^\s@"<>]+@[^\s@"<>]+/;

/** Every `name{label="value"}` label value in an exposition, with its series for messages. */
function labelValues(exposition: string): { series: string; label: string; value: string }[] {
  const out: { series: string; label: string; value: string }[] = [];
  for (const line of exposition.split("\n")) {
    if (line.startsWith("#") || !line.includes("{")) continue;
    const series = line.slice(0, line.lastIndexOf("}") + 1);
    for (const match of series.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      out.push({ series, label: match[1] as string, value: match[2] as string });
  }
  return out;
}

describe("/metrics of the whole pipeline", () => {
  let pipeline: TestPipeline;
  let services: RunningServices;
  let exposition: string;
  let workDir: string;

  before(async () => {
    pipeline = await startTestPipeline();
    services = pipeline.services;
    const { syslogPort } = pipeline;
    workDir = mkdtempSync(join(tmpdir(), "postwatch-metrics-"));
    // Every line shape (client IPs v4 and v6, sasl_username=, from=/to= addresses), a SASL brute force,
    // relay abuse with bounces; some over UDP so both transports have series.
    const corpus = fixtureLines("postfix-corpus.log").filter((line) => !line.startsWith("#"));
    const lines = [
      ...corpus,
      ...fixtureLines("sasl-bruteforce-seed002.log"),
      ...fixtureLines("seed-003-relay-abuse.log"),
    ].map((line) => traditionalForward(line));
    await sendTcp(syslogPort, lines, "octet-counted");
    await sendUdp(syslogPort, lines.slice(0, 20));
    const total = lines.length + 20;
    // All of it through the receiver and the detector, and the brute-force alert through the alerter.
    await waitForMetrics(
      services.metricsPort,
      (text) =>
        sample(text, "postwatch_receiver_frames_received_total", { transport: "tcp" }) +
          sample(text, "postwatch_receiver_frames_received_total", { transport: "udp" }) ===
          total &&
        sample(text, "postwatch_detector_events_total", { outcome: "processed" }) ===
          sample(text, "postwatch_receiver_lines_total", { outcome: "postfix" }) &&
        sample(text, "postwatch_alerter_alerts_total", { sink: "webhook", outcome: "delivered" }) > 0,
      15_000,
      "the traffic to pass through all three services",
    );
    exposition = await scrape(services.metricsPort);
  });

  after(async () => {
    await pipeline?.[Symbol.asyncDispose]();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  const promtool = (text: string) => {
    const file = join(workDir, "metrics.prom");
    writeFileSync(file, text);
    const result = spawnSync(PROMTOOL, ["check", "metrics"], {
      input: readFileSync(file),
      timeout: 10_000,
      encoding: "utf8",
    });
    assert.equal(result.error, undefined, `could not run ${PROMTOOL}: ${result.error?.message}`);
    return { status: result.status, complaints: `${result.stdout}${result.stderr}`.trim() };
  };

  /** Only the families whose name starts with one of `prefixes`, HELP and TYPE lines included. */
  const families = (text: string, prefixes: readonly string[]) =>
    text
      .split("\n")
      .filter((line) => {
        const name = line.startsWith("# ") ? (line.split(" ")[2] ?? "") : line;
        return prefixes.some((prefix) => name.startsWith(prefix));
      })
      .join("\n")
      .concat("\n");

  it("passes promtool check metrics for every postwatch_* and postfix_* family", () => {
    const own = families(exposition, ["postwatch_", "postfix_"]);
    // Sanity: the exposition is the full pipeline's, with Postfix series from the traffic.
    assert.match(own, /^postfix_smtpd_sasl_authentication_failures_total\{/m);
    assert.match(own, /^postwatch_alerter_sink_requests_total\{sink="webhook",result="delivered"\}/m);
    assert.match(own, /^postwatch_detector_events_total\{/m);
    assert.match(own, /^postwatch_receiver_lines_total\{/m);
    const { status, complaints } = promtool(own);
    assert.equal(complaints, "", `promtool check metrics:\n${complaints}`);
    assert.equal(status, 0);
  });

  // prom-client's default metrics include three gauges named *_total (nodejs_active_handles_total,
  // nodejs_active_requests_total, nodejs_active_resources_total) that promtool rejects; the
  // services drop them (shared/src/runtime/service.ts).
  it("passes promtool check metrics for the whole exposition, default process metrics included", () => {
    const { status, complaints } = promtool(exposition);
    assert.equal(complaints, "", `promtool check metrics:\n${complaints}`);
    assert.equal(status, 0);
  });

  it("has no IP address or email address in any label value", () => {
    const values = labelValues(exposition);
    assert.ok(values.length > 100, `only ${values.length} label values`);
    const leaks = values.filter(({ value }) => IPV4.test(value) || IPV6.test(value) || EMAIL.test(value));
    assert.deepEqual(
      leaks.map((l) => `${l.series}: ${l.label}="${l.value}"`),
      [],
      "label values carrying an address",
    );
    // The traffic did carry them, so the absence means something.
    const raw = fixtureLines("postfix-corpus.log").join("\n");
    assert.match(raw, /sasl_username=\S+@/);
    assert.match(raw, /\[2001:db8::/);
    for (const user of raw.matchAll(/sasl_username=([^\s,]+)/g))
      assert.ok(!exposition.includes(user[1] as string), `SASL user ${user[1]} in /metrics`);
  });

  it("is documented: docs/metrics.md lists every postwatch_* and postfix_* metric registered, and no other", () => {
    const registered = new Map<string, string>();
    for (const [, name] of exposition.matchAll(/^# TYPE ((?:postwatch|postfix)_\w+) /gm))
      registered.set(name as string, "registered by a service");
    assert.ok(registered.size > 40, `only ${registered.size} metrics`);
    // The postfix_exporter mapping at the end names the exporter's metrics, not ours.
    const listed = documentedNames("docs/metrics.md", "## Coming from postfix_exporter");
    const problems = undocumented("docs/metrics.md", registered, listed);
    assert.deepEqual(problems, [], problems.join("\n"));
  });
});
