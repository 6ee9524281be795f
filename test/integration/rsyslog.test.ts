/**
 * A real rsyslogd in front of the receiver, forwarding with omfwd in each of its stock formats.
 * The test speaks syslog to rsyslog's imtcp inputs (as Postfix's local syslog would hand lines on);
 * each input has its own ruleset with one omfwd action, and its own HOSTNAME so the events can be
 * told apart on NATS. Lines are seed 002 and 003, re-stamped to the last minutes so the year is
 * never guessed. Expected events are the receiver's own parse of the original line.
 *
 * rsyslog behaviour relied on (rsyslog docs, "Reserved template names"; checked against 8.2302):
 *   RSYSLOG_TraditionalForwardFormat  <%PRI%>%TIMESTAMP% %HOSTNAME% %syslogtag:1:32%%msg:::sp-if-no-1st-sp%%msg%
 *   RSYSLOG_ForwardFormat             same with %TIMESTAMP:::date-rfc3339% (`2026-02-23T11:57:42+00:00`)
 *   RSYSLOG_SyslogProtocol23Format    <%PRI%>1 %TIMESTAMP:::date-rfc3339% %HOSTNAME% %APP-NAME% %PROCID% %MSGID% %STRUCTURED-DATA% %msg%\n
 * APP-NAME is the programname, cut at the first '/' ("postfix") unless
 * global(parser.permitSlashInProgramName="on") (rsyslog ≥ 8.25; docs, property "programname").
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { PostfixEvent } from "../../shared/src/contracts/events.js";
import { lineToEvent } from "../../shared/src/pipeline/lines.js";
import type { RunningServices } from "../../shared/src/runtime/service.js";
import { fixtureLines } from "../helpers/fixtures.js";
import { sample, scrape, waitForMetrics } from "../helpers/metrics.js";
import { freePort } from "../helpers/ports.js";
import { startTestReceiver, type TestReceiver } from "../helpers/receiver.js";
import { type Rsyslogd, shippedRsyslogSnippet, startRsyslogd } from "../helpers/rsyslogd.js";
import type { StreamReader } from "../helpers/stream-reader.js";
import { sendTcp } from "../helpers/syslog-client.js";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad = (n: number) => String(n).padStart(2, "0");
/** RFC 3164 timestamp in UTC, as a local syslogd on a UTC machine writes it. */
const bsdStamp = (ms: number) => {
  const d = new Date(ms);
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, " ")} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
};

const SEED_LINE = /^\w{3} +\d+ \d\d:\d\d:\d\d (?:\S+ )?(postfix[^\s[]*\[\d+\]): (.*)$/;

interface Line {
  /** The line as the mail server's syslog wrote it, with `host` as HOSTNAME. */
  text: string;
  /** What the receiver makes of that line read straight from a file. */
  expected: PostfixEvent;
  /** Seconds since the epoch of its timestamp, in ISO form. */
  ts: string;
}

/** Seed 002 (no HOSTNAME in the file) and 003, one second apart, ending a minute ago. */
function seedLines(host: string): Line[] {
  const raw = [
    ...fixtureLines("seed-002-tls-debug-bruteforce.log"),
    ...fixtureLines("seed-003-relay-abuse.log"),
  ];
  const start = Math.floor(Date.now() / 1000) * 1000 - 60_000 - raw.length * 1000;
  return raw.map((line, i) => {
    const match = SEED_LINE.exec(line);
    assert.ok(match, `unexpected seed line shape: ${line}`);
    const at = start + i * 1000;
    const text = `${bsdStamp(at)} ${host} ${match[1]}: ${match[2]}`;
    const outcome = lineToEvent(text, { referenceTime: Date.now(), fallbackHost: "" });
    assert.equal(outcome.type, "event", text);
    return { text, expected: (outcome as { event: PostfixEvent }).event, ts: new Date(at).toISOString() };
  });
}

const clientIp = (event: PostfixEvent): string | undefined =>
  "client" in event && event.client ? event.client.ip : undefined;

describe("rsyslog omfwd → receiver → JetStream", () => {
  let setup: TestReceiver;
  let receiver: RunningServices;
  let syslogPort: number;
  let events: StreamReader<PostfixEvent>;
  let rsyslog: Rsyslogd | undefined;

  before(async () => {
    setup = await startTestReceiver({ SYSLOG_TIMEZONE: "UTC" });
    ({ receiver, port: syslogPort, events } = setup);
  });

  after(async () => {
    await rsyslog?.stop();
    await setup?.[Symbol.asyncDispose]();
  });

  const eventsOf = (host: string) => events.messages.map((m) => m.data).filter((e) => e.host === host);

  it("delivers every line in the three stock forwarding formats, as parsed from the file", async () => {
    const [udpIn, forwardIn, protocol23In] = [await freePort(), await freePort(), await freePort()];
    const forward = (extra: string) =>
      `action(type="omfwd" target="127.0.0.1" port="${syslogPort}" ${extra})`;
    rsyslog = await startRsyslogd({
      readyPorts: [udpIn, forwardIn, protocol23In],
      config: `
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="${udpIn}" ruleset="udp_traditional")
input(type="imtcp" address="127.0.0.1" port="${forwardIn}" ruleset="tcp_forward")
input(type="imtcp" address="127.0.0.1" port="${protocol23In}" ruleset="tcp_protocol23")
ruleset(name="udp_traditional") { ${forward('protocol="udp"')} }
ruleset(name="tcp_forward") { ${forward('protocol="tcp" template="RSYSLOG_ForwardFormat"')} }
ruleset(name="tcp_protocol23") {
  ${forward('protocol="tcp" TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format"')}
}`,
    });
    const cases = [
      { host: "mx-udp", port: udpIn },
      { host: "mx-fwd", port: forwardIn },
      { host: "mx-5424", port: protocol23In },
    ].map((c) => ({ ...c, lines: seedLines(c.host) }));
    for (const c of cases)
      await sendTcp(
        c.port,
        c.lines.map((l) => `<22>${l.text}`),
        "lf",
      );

    await events.waitFor(
      () => cases.every((c) => eventsOf(c.host).length >= c.lines.length),
      10_000,
      `${cases.map((c) => c.lines.length).join("+")} events from rsyslog (${rsyslog.output()})`,
    );

    // (a) UDP, RSYSLOG_TraditionalForwardFormat and (b) TCP LF, RSYSLOG_ForwardFormat: the event is
    // exactly what the receiver makes of the file line — kind, host, program, daemon, pid, client, time.
    for (const host of ["mx-udp", "mx-fwd"]) {
      const c = cases.find((x) => x.host === host);
      assert.ok(c);
      const got = eventsOf(host);
      assert.equal(got.length, c.lines.length, `${host}: one event per line, no duplicates`);
      for (const [i, line] of c.lines.entries()) {
        assert.deepEqual(got[i], line.expected, `${host} line ${i}: ${line.text}`);
        assert.equal(got[i]?.ts, line.ts);
      }
      const auth = got.find((e) => e.kind === "sasl_auth_failed");
      assert.equal(auth?.program, "postfix/smtpd");
      assert.equal(auth?.daemon, "smtpd");
      assert.equal(clientIp(auth as PostfixEvent), "176.103.49.30");
    }

    // (c) TCP octet-counted, RFC 5424: APP-NAME is only `postfix`, so the daemon is unknown; the rest holds.
    const c = cases.find((x) => x.host === "mx-5424");
    assert.ok(c);
    const got = eventsOf("mx-5424");
    assert.equal(got.length, c.lines.length, "mx-5424: one event per line, no duplicates");
    for (const [i, line] of c.lines.entries()) {
      const event = got[i] as PostfixEvent;
      const where = `mx-5424 line ${i}: ${line.text}`;
      assert.equal(event.program, "postfix", where);
      assert.equal(event.daemon, "unknown", where);
      assert.equal(event.host, "mx-5424", where);
      assert.equal(event.pid, line.expected.pid, where);
      assert.equal(event.ts, line.ts, where);
      assert.equal(event.kind, line.expected.kind, where);
      assert.equal(clientIp(event), clientIp(line.expected), where);
      assert.equal(event.queueId, line.expected.queueId, where);
    }

    const metrics = await scrape(receiver.metricsPort);
    assert.equal(sample(metrics, "postwatch_receiver_lines_total", { outcome: "bad_header" }), 0);
    assert.equal(sample(metrics, "postwatch_receiver_lines_total", { outcome: "not_postfix" }), 0);
    assert.equal(
      sample(metrics, "postwatch_receiver_framing_errors_total", {
        transport: "tcp",
        reason: "bad_octet_count",
      }),
      0,
    );
    assert.equal(
      sample(metrics, "postwatch_receiver_lines_total", { outcome: "postfix" }),
      cases.reduce((n, x) => n + x.lines.length, 0),
    );
    await rsyslog.stop();
    rsyslog = undefined;
  });

  it("keeps the full tag in RFC 5424 when rsyslog permits slashes in the program name", async () => {
    const input = await freePort();
    rsyslog = await startRsyslogd({
      globals: 'parser.permitSlashInProgramName="on"',
      readyPorts: [input],
      config: `
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="${input}" ruleset="slash")
ruleset(name="slash") {
  action(type="omfwd" target="127.0.0.1" port="${syslogPort}" protocol="tcp" TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")
}`,
    });
    const lines = seedLines("mx-slash");
    await sendTcp(
      input,
      lines.map((l) => `<22>${l.text}`),
      "lf",
    );
    const got = (
      await events.waitFor(
        () => eventsOf("mx-slash").length >= lines.length,
        10_000,
        `${lines.length} events from rsyslog (${rsyslog.output()})`,
      )
    )
      .map((m) => m.data)
      .filter((e) => e.host === "mx-slash");
    assert.equal(got.length, lines.length);
    for (const [i, line] of lines.entries()) assert.deepEqual(got[i], line.expected, line.text);
    assert.ok(got.some((e) => e.program === "postfix/qmgr" && e.daemon === "qmgr"));
    await rsyslog.stop();
    rsyslog = undefined;
  });

  it("works with the shipped deploy/rsyslog/60-postwatch.conf (mail.* over TCP, RSYSLOG_ForwardFormat)", async () => {
    const input = await freePort();
    const shipped = shippedRsyslogSnippet("60-postwatch.conf", syslogPort);
    rsyslog = await startRsyslogd({
      readyPorts: [input],
      // The snippet's `mail.*` selector sits in the default ruleset, where this imtcp input delivers.
      config: `module(load="imtcp")\ninput(type="imtcp" address="127.0.0.1" port="${input}")\n${shipped}`,
    });
    const lines = seedLines("mx-shipped");
    // mail.info (22) passes the selector; a daemon.info (30) line must not be forwarded.
    await sendTcp(
      input,
      [
        ...lines.map((l) => `<22>${l.text}`),
        `<30>${bsdStamp(Date.now())} mx-shipped postfix/smtpd[1]: connect from x[192.0.2.1]`,
      ],
      "lf",
    );
    const got = (
      await events.waitFor(
        () => eventsOf("mx-shipped").length >= lines.length,
        10_000,
        `${lines.length} events through the shipped snippet (${rsyslog.output()})`,
      )
    )
      .map((m) => m.data)
      .filter((e) => e.host === "mx-shipped");
    for (const [i, line] of lines.entries()) assert.deepEqual(got[i], line.expected, line.text);
    await rsyslog.stop();
    rsyslog = undefined;
    assert.equal(eventsOf("mx-shipped").length, lines.length, "only mail.* is forwarded");
  });

  // Both RSYSLOG_TraditionalForwardFormat (omfwd's default) and RSYSLOG_ForwardFormat (the shipped
  // snippet's) render the tag as %syslogtag:1:32%: a longer tag is cut and its colon goes with it.
  // `postfix/submission/smtpd[1234567]:` is 34 characters (Linux pids reach 7 digits under the
  // default pid_max of 4194304) and `postfix-out/submission/smtpd[25497]:` is 36, so the receiver
  // gets `... postfix/submission/smtpd[1234567 connect from ...` and must still read it.
  it("reads a Postfix tag that rsyslog's forwarding formats cut at 32 characters", async () => {
    const [udpIn, forwardIn] = [await freePort(), await freePort()];
    rsyslog = await startRsyslogd({
      readyPorts: [udpIn, forwardIn],
      config: `
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="${udpIn}" ruleset="udp")
input(type="imtcp" address="127.0.0.1" port="${forwardIn}" ruleset="fwd")
ruleset(name="udp") { action(type="omfwd" target="127.0.0.1" port="${syslogPort}" protocol="udp") }
ruleset(name="fwd") {
  action(type="omfwd" target="127.0.0.1" port="${syslogPort}" protocol="tcp" template="RSYSLOG_ForwardFormat")
}`,
    });
    try {
      const longTags = (host: string) => [
        `<22>${bsdStamp(Date.now())} ${host} postfix/submission/smtpd[1234567]: connect from unknown[203.0.113.9]`,
        `<22>${bsdStamp(Date.now())} ${host} postfix-out/submission/smtpd[25497]: connect from unknown[203.0.113.9]`,
      ];
      await sendTcp(udpIn, longTags("mx-long-udp"), "lf");
      await sendTcp(forwardIn, longTags("mx-long-fwd"), "lf");
      // Both reached the receiver: only the outcome is in question.
      await waitForMetrics(
        receiver.metricsPort,
        (text) =>
          sample(text, "postwatch_receiver_lines_total", { outcome: "bad_header" }) +
            eventsOf("mx-long-udp").length +
            eventsOf("mx-long-fwd").length >=
          4,
        5000,
        "the four long-tag lines to reach the receiver",
      );
      await events.waitFor(
        () => eventsOf("mx-long-udp").length + eventsOf("mx-long-fwd").length === 4,
        1000,
        "four long-tag events",
      );
      for (const event of [...eventsOf("mx-long-udp"), ...eventsOf("mx-long-fwd")]) {
        assert.equal(event.kind, "connect");
        assert.equal(event.daemon, "smtpd");
        assert.equal(event.service, "submission");
        assert.equal(clientIp(event), "203.0.113.9");
      }
    } finally {
      await rsyslog.stop();
      rsyslog = undefined;
    }
  });
});
