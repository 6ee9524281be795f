import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { debug, diagnostic, HOUR, replay, seed002Session, tls } from "./fixtures.js";

const DAY = 24 * HOUR;
const seed002 = () => [0, 50, 100].flatMap((at, i) => seed002Session(at, 32451 + i));

describe("weak_tls", () => {
  it("fires once on seed 002's TLSv1.2 with cipher RC4-SHA", () => {
    const alerts = replay(seed002()).of("weak_tls");
    assert.equal(alerts.length, 1);
    assert.deepEqual(alerts[0]?.key, { type: "host_cipher", value: "unnamed-host TLSv1.2 RC4-SHA" });
    assert.deepEqual(alerts[0]?.related.clientIps, ["176.103.49.30"]);
  });

  it("fires again for the same host and cipher only after a quiet day", () => {
    const weak = (at: number) => tls({ at, ip: "192.0.2.30", protocol: "TLSv1", cipher: "DES-CBC3-SHA" });
    const alerts = replay([weak(0), weak(HOUR), weak(12 * HOUR), weak(3 * DAY)]).of("weak_tls");
    assert.deepEqual(
      alerts.map((a) => a.state),
      ["firing", "resolved", "firing"],
    );
  });

  it("stays quiet on modern protocols and ciphers", () => {
    const events = [
      tls({ at: 0, ip: "192.0.2.31", protocol: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384" }),
      tls({ at: 1, ip: "192.0.2.32", protocol: "TLSv1.2", cipher: "ECDHE-RSA-AES256-GCM-SHA384" }),
      tls({
        at: 2,
        ip: "192.0.2.33",
        protocol: "TLSv1.2",
        cipher: "ECDHE-RSA-CHACHA20-POLY1305",
        direction: "out",
      }),
    ];
    assert.equal(replay(events).of("weak_tls").length, 0);
  });
});

describe("credentials_in_logs", () => {
  it("fires once on seed 002's TLS debug lines; the resolve names the setting and the exposed user", () => {
    const alerts = replay(seed002(), { endAt: 2 * DAY }).of("credentials_in_logs");
    assert.deepEqual(
      alerts.map((a) => a.state),
      ["firing", "resolved"],
    );
    const [firing, resolved] = alerts;
    assert.equal(firing?.severity, "critical");
    assert.deepEqual(firing?.key, { type: "host", value: "unnamed-host" });
    assert.deepEqual(firing?.facts.settings, ["smtpd_tls_loglevel"], "the first line already tells");
    assert.match(firing?.remediation ?? "", /smtpd_tls_loglevel = 0/);
    assert.deepEqual(resolved?.related.saslUsers, ["admin@fipick.com"]);
    // Every line of seed 002 is TLS debug output; its thread found smtpd_tls_loglevel raised, nothing else.
    assert.deepEqual(
      ((resolved?.facts.settings ?? []) as string[]).map((s) => s.replace(/ \(\d+\)$/, "")),
      ["smtpd_tls_loglevel"],
    );
  });

  it("stays quiet when no debug lines are logged", () => {
    const events = [
      tls({ at: 0, ip: "192.0.2.31", protocol: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384" }),
      diagnostic({
        at: 1,
        kind: "warning",
        text: "hostname bogus.example does not resolve to address 192.0.2.44",
      }),
    ];
    assert.equal(replay(events).of("credentials_in_logs").length, 0);
  });

  it("keys by host: a second server with debug logging gets its own alert", () => {
    const events = [
      debug({ at: 0, host: "mx1", text: "SSL_accept:SSLv3 flush data" }),
      debug({ at: 1, host: "mx2", text: "Read 16 chars: EHLO x" }),
    ];
    assert.equal(replay(events).of("credentials_in_logs").length, 2);
  });

  it("tells debug_peer_list's SMTP dialogue from TLS debug output", () => {
    const settingsOf = (text: string) =>
      replay([debug({ at: 0, host: "mx1", text, ip: "192.0.2.9" })]).of("credentials_in_logs")[0]?.facts
        .settings;
    assert.deepEqual(settingsOf("< unknown[192.0.2.9]: AUTH PLAIN [redacted]"), [
      "debug_peer_list (or smtpd -v)",
    ]);
    assert.deepEqual(settingsOf("smtpd_chat_notify: notify postmaster"), ["debug_peer_list (or smtpd -v)"]);
    assert.deepEqual(settingsOf("Read 45 chars: AUTH PLAIN [redacted]"), ["smtpd_tls_loglevel"]);
  });
});

describe("mail_system_error", () => {
  it("fires on a daemon killed by a signal, and groups repeats", () => {
    const killed = (at: number, pid: number) =>
      diagnostic({
        at,
        kind: "warning",
        program: "postfix/master",
        text: `process /usr/lib/postfix/sbin/smtpd pid ${pid} killed by signal 11`,
      });
    const alerts = replay([
      killed(0, 2299),
      killed(30, 2301),
      diagnostic({
        at: 40,
        kind: "fatal",
        text: "open database /etc/postfix/virtual.db: No such file or directory",
      }),
    ]).of("mail_system_error");
    assert.equal(alerts.length, 1);
    assert.match(alerts[0]?.summary ?? "", /killed by signal N/);
  });

  it("fires on fatal, panic and a deferred-mail pile-up", () => {
    for (const [kind, text] of [
      ["fatal", "open database /etc/postfix/virtual.db: No such file or directory"],
      ["panic", "myfree: corrupt or unallocated memory"],
      ["warning", "lots of deferred mail, that is bad for performance"],
    ] as const)
      assert.equal(replay([diagnostic({ at: 0, kind, text })]).of("mail_system_error").length, 1, text);
  });

  it("fires on the services mail depends on failing, as a real Postfix 3.7 logs it", () => {
    for (const [program, text] of [
      ["postfix/master", "process /usr/lib/postfix/sbin/smtpd pid 9496 exit status 1"],
      ["postfix/master", "/usr/lib/postfix/sbin/smtpd: bad command startup -- throttling"],
      ["postfix/smtpd", "problem talking to server 127.0.0.1:33017: Connection refused"],
      ["postfix/smtpd", "connect to Milter service inet:127.0.0.1:33017: Connection refused"],
      [
        "postfix/submission/smtpd",
        "SASL authentication problem: unable to open Berkeley db /etc/sasldb2: Permission denied",
      ],
      ["postfix/submission/smtpd", "SASL: Connect to private/auth failed: No such file or directory"],
    ] as const) {
      const alerts = replay([diagnostic({ at: 0, kind: "warning", program, text })]).of("mail_system_error");
      assert.equal(alerts.length, 1, text);
    }
  });

  it("stays quiet on routine warnings", () => {
    const events = [
      diagnostic({
        at: 0,
        kind: "warning",
        text: "hostname bogus.example does not resolve to address 192.0.2.44",
      }),
      diagnostic({
        at: 1,
        kind: "warning",
        text: "non-SMTP command from unknown[192.0.2.5]: GET / HTTP/1.1",
      }),
      diagnostic({
        at: 2,
        kind: "warning",
        text: "SASL authentication failure: Password verification failed",
      }),
    ];
    assert.equal(replay(events).of("mail_system_error").length, 0);
  });
});
