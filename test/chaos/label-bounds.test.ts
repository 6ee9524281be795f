/**
 * Hostile label values through the real pipeline (receiver, nats-server, detector): every field that
 * becomes a label value (host, service, daemon, SASL mechanism, reject stage and code, TLS protocol
 * and cipher, DSN) is new on every line. /metrics stays small and within its bound, promtool still
 * accepts it, and a mail server listed in DETECTOR_METRICS_HOSTS, or one whose mail flows after the
 * flood of spoofed names, keeps its own `host` label. The 100,000-values-per-label case runs against
 * the metrics module directly (services/detector/src/postfix-metrics.test.ts).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { MAX_EXTRA_SERVICES } from "../../services/detector/src/metric-labels.js";
import { MAX_SERIES } from "../../services/detector/src/postfix-metrics.js";
import { sample, waitForMetrics } from "../helpers/metrics.js";
import { startTestPipeline, type TestPipeline } from "../helpers/pipeline.js";
import { sendTcp } from "../helpers/syslog-client.js";

const ROUNDS = 1000;
const at = "<22>Nov  3 14:03:01";
const client = "unknown[203.0.113.7]";
/** `i` as capital letters, for fields that take only those (an SMTP stage). */
const letters = (i: number) =>
  [...i.toString(26)].map((c) => String.fromCharCode(65 + Number.parseInt(c, 26))).join("");

function hostileLines(i: number): string[] {
  const v = `hostile${i}`;
  return [
    `${at} spoof-${i} postfix/${v}/smtpd[1]: connect from ${client}`,
    `${at} mx-listed postfix/smtpd[1]: lost connection after ${v.toUpperCase()} from ${client}`,
    `${at} mx-listed postfix/smtpd[1]: warning: ${client}: SASL ${v.toUpperCase()} authentication failed: UGFzc3dvcmQ6`,
    `${at} mx-listed postfix/smtpd[1]: 4F1A2B3C: client=${client}, sasl_method=${v}, sasl_username=u`,
    `${at} mx-listed postfix/smtpd[1]: NOQUEUE: reject: X${letters(i)} from ${client}: ${100 + (i % 900)} 5.7.1 <x@example.org>: Relay access denied; from=<a@example.org> to=<x@example.org> proto=ESMTP helo=<h>`,
    `${at} mx-listed postfix/smtpd[1]: Anonymous TLS connection established from ${client}: P${v} with cipher C${v} (256/256 bits)`,
    `${at} mx-listed postfix/${v}[1]: 4F1A2B3C: to=<b@example.net>, relay=none, delay=1, delays=0/0/0/1, dsn=9.${i}.0, status=sent (ok)`,
    `${at} mx-listed postfix/${v}[1]: warning: something odd`,
  ];
}

/** One message through a server: queued, delivered, removed. */
const mailFlow = (host: string, queueId: string) => [
  `${at} ${host} postfix/qmgr[2]: ${queueId}: from=<a@example.org>, size=1000, nrcpt=1 (queue active)`,
  `${at} ${host} postfix/smtp[3]: ${queueId}: to=<b@example.net>, relay=mx.example.net[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)`,
  `${at} ${host} postfix/qmgr[2]: ${queueId}: removed`,
];

describe("chaos: hostile label values through the pipeline", () => {
  let pipeline: TestPipeline;
  let exposition: string;

  before(async () => {
    pipeline = await startTestPipeline({ env: { DETECTOR_METRICS_HOSTS: "mx-listed" } });
    const lines = [
      ...Array.from({ length: ROUNDS }, (_, i) => hostileLines(i)).flat(),
      ...mailFlow("mx-late", "5A1B2C3D"),
      ...mailFlow("mx-late", "5A1B2C3E"),
    ];
    await sendTcp(pipeline.syslogPort, lines, "octet-counted");
    exposition = await waitForMetrics(
      pipeline.services.metricsPort,
      (text) =>
        sample(text, "postwatch_receiver_frames_received_total", { transport: "tcp" }) === lines.length &&
        sample(text, "postwatch_detector_events_total", { outcome: "processed" }) ===
          sample(text, "postwatch_receiver_lines_total", { outcome: "postfix" }),
      60_000,
      "every line through the receiver and the detector",
    );
  });

  after(async () => {
    await pipeline?.[Symbol.asyncDispose]();
  });

  const series = (prefix: string) =>
    exposition.split("\n").filter((line) => line.startsWith(prefix) && !line.startsWith("#"));

  it("keeps Postfix's and the receiver's series few, and within the documented bound", () => {
    const postfix = series("postfix_");
    assert.ok(postfix.length <= 600, `${postfix.length} postfix_* series`);
    assert.ok(postfix.length <= MAX_SERIES);
    assert.ok(series("postwatch_receiver_").length <= 40, series("postwatch_receiver_").join("\n"));
    const kept = postfix.filter((line) => line.includes("hostile"));
    // Services beyond the stock ones are labelled first come, up to a cap; nothing else keeps one.
    assert.ok(
      kept.every((line) => /service="hostile\d+"/.test(line)),
      kept.slice(0, 5).join("\n"),
    );
    assert.ok(new Set(kept.map((line) => /service="(\w+)"/.exec(line)?.[1])).size <= MAX_EXTRA_SERVICES);
    assert.ok(
      sample(exposition, "postwatch_detector_metric_labels_folded_total", { label: "cipher" }) >= ROUNDS,
    );
  });

  it("keeps the listed host's and the late real server's own labels", () => {
    assert.ok(
      sample(exposition, "postfix_smtpd_sasl_authentication_failures_total", {
        host: "mx-listed",
        mechanism: "other",
      }) === ROUNDS,
    );
    assert.equal(sample(exposition, "postfix_qmgr_messages_inserted_total", { host: "mx-late" }), 1);
  });

  it("passes promtool check metrics", () => {
    const promtool = spawnSync(process.env.PROMTOOL_BIN ?? "promtool", ["check", "metrics"], {
      input: exposition,
      encoding: "utf8",
      timeout: 10_000,
    });
    assert.equal(promtool.error, undefined);
    assert.equal(`${promtool.stdout}${promtool.stderr}`.trim(), "");
    assert.equal(promtool.status, 0);
  });
});
