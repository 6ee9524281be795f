/** The `postwatch` command as an admin meets it: real child processes, real files, exit codes and output. */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { buildProgram } from "../../services/cli/src/program.js";
import { startTestNats } from "../helpers/nats-server.js";

const MAIN = fileURLToPath(new URL("../../services/cli/src/main.js", import.meta.url));
const FIXTURES = fileURLToPath(new URL("../../../test/fixtures/", import.meta.url));

function postwatch(args: string[], env: Record<string, string> = {}, input?: string) {
  const result = spawnSync(process.execPath, [MAIN, ...args], {
    env: { PATH: process.env.PATH ?? "", ...env },
    input,
    encoding: "utf8",
    timeout: 30_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The commands as the program declares them, so a command added later is held to the same rules. */
function commandNames(): string[] {
  const program = buildProgram(
    { env: {}, out: () => undefined, stdinIsTerminal: false, version: "" },
    () => undefined,
  );
  return program.commands.map((command) => command.name()).filter((name) => name !== "help");
}

const oneLine = (text: string) => text.trimEnd().split("\n").length === 1;

describe("postwatch command line", () => {
  it("explains a bad config value in one line naming the variable, without a stack trace", () => {
    const { code, stderr } = postwatch(["receiver"], {
      NATS_URL: "nats://127.0.0.1:1",
      SYSLOG_UDP_PORT: "abc",
    });
    assert.equal(code, 1);
    assert.ok(oneLine(stderr), stderr);
    assert.match(
      stderr,
      /^postwatch: invalid configuration: SYSLOG_UDP_PORT: must be a port number \(got "abc"\)/,
    );
  });

  it("reports every bad value at once", () => {
    const { code, stderr } = postwatch(["alerter"], {
      NATS_URL: "nats://127.0.0.1:1",
      SLACK_WEBHOOK_URL: "ftp://x",
      LOG_LEVEL: "loud",
    });
    assert.equal(code, 1);
    assert.ok(oneLine(stderr), stderr);
    assert.match(stderr, /SLACK_WEBHOOK_URL/);
    assert.match(stderr, /LOG_LEVEL/);
  });

  it("prints the settings each service would start with, the config file's included, secrets hidden", (t) => {
    const dir = mkdtempSync(join(tmpdir(), "postwatch-config-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "postwatch.json");
    const destinations = [
      {
        name: "siem",
        type: "webhook",
        url: "https://siem.example.net/d3st-token",
        secret: "d3st-secret-0123456789",
        minSeverity: "warning",
      },
    ];
    writeFileSync(
      file,
      JSON.stringify({
        SYSLOG_ALLOWED_SOURCES: "192.0.2.0/24",
        ALERTER_GROUP_MAX: 20,
        ALERTER_DESTINATIONS: destinations,
      }),
    );
    const { code, stdout } = postwatch(["config"], {
      POSTWATCH_CONFIG_FILE: file,
      NATS_URL: "nats://admin:n4ts-pass@nats.example:4222",
      SLACK_WEBHOOK_URL: "https://hooks.slack.com/services/T000/B000/sl4ck-token",
      WEBHOOK_URL: "https://siem.example.net/hook",
      WEBHOOK_SECRET: "w3bhook-secret-0123456789",
      DETECTOR_RULES: '{"sasl_bruteforce":{"threshold":10}}',
    });
    assert.equal(code, 0);
    const settings = JSON.parse(stdout);
    assert.deepEqual(Object.keys(settings), ["receiver", "detector", "alerter"]);
    assert.deepEqual(settings.receiver.SYSLOG_ALLOWED_SOURCES, ["192.0.2.0/24"]);
    assert.equal(settings.receiver.SYSLOG_TCP_PORT, 5514, "defaults applied");
    assert.equal(settings.alerter.ALERTER_GROUP_MAX, 20, "from the config file");
    assert.deepEqual(settings.detector.NATS_URL, ["nats.example:4222 (rest hidden)"]);
    assert.equal(settings.alerter.SLACK_WEBHOOK_URL, "hooks.slack.com (rest hidden)");
    assert.equal(settings.alerter.WEBHOOK_SECRET, "(set, hidden)");
    assert.deepEqual(settings.alerter.ALERTER_DESTINATIONS, [
      {
        name: "siem",
        type: "webhook",
        url: "siem.example.net (rest hidden)",
        secret: "(set, hidden)",
        minSeverity: "warning",
      },
    ]);
    for (const secret of ["n4ts-pass", "sl4ck-token", "w3bhook-secret", "d3st-token", "d3st-secret"])
      assert.ok(!stdout.includes(secret), secret);
  });

  it("config fails on a bad value as the service would, and names an unknown service", () => {
    const bad = postwatch(["config", "receiver"], { SYSLOG_ALLOWED_SOURCES: "mx1.example.org" });
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /SYSLOG_ALLOWED_SOURCES: "mx1\.example\.org" is not an IP address or CIDR range/,
    );
    const unknown = postwatch(["config", "mailer"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown service "mailer" \(services: receiver, detector, alerter\)/);
  });

  it("requires NATS_URL for a single service", () => {
    const { code, stderr } = postwatch(["detector"]);
    assert.equal(code, 1);
    assert.match(stderr, /NATS_URL: is required: nats:\/\/host:4222 of a NATS server with JetStream/);
  });

  it("says in one line, without the password in the URL, that NATS cannot be reached", () => {
    const { code, stderr } = postwatch(["receiver"], {
      NATS_URL: "nats://admin:s3cret@127.0.0.1:1",
      SYSLOG_HOST: "127.0.0.1",
    });
    assert.equal(code, 1);
    assert.ok(oneLine(stderr), stderr);
    assert.match(stderr, /^postwatch: cannot connect to NATS at nats:\/\/127\.0\.0\.1:1/);
    assert.ok(!stderr.includes("s3cret"));
  });

  it("says in one line that a syslog port is taken, and exits instead of hanging", async () => {
    await using nats = await startTestNats();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const started = Date.now();
      const { code, stderr } = postwatch(["receiver"], {
        NATS_URL: nats.url,
        SYSLOG_HOST: "127.0.0.1",
        SYSLOG_TCP_PORT: String(port),
        SYSLOG_UDP_PORT: String(port),
        METRICS_PORT: "0",
        LOG_LEVEL: "silent",
      });
      assert.equal(code, 1);
      assert.ok(oneLine(stderr), stderr);
      assert.match(
        stderr,
        new RegExp(`^postwatch: listen EADDRINUSE: address already in use 127\\.0\\.0\\.1:${port}`),
      );
      assert.ok(Date.now() - started < 10_000);
    } finally {
      taken.close();
    }
  });

  it("names a bad rule override before connecting anywhere", () => {
    const { code, stderr } = postwatch(["detector"], {
      NATS_URL: "nats://127.0.0.1:1",
      DETECTOR_RULES: '{"sasl_brute_force":{}}',
    });
    assert.equal(code, 1);
    assert.ok(oneLine(stderr), stderr);
    assert.match(stderr, /rule sasl_brute_force: unknown rule/);
  });

  it("says what is wrong with NATS_SERVER_BIN, before starting anything", (t) => {
    const missing = postwatch(["start"], { NATS_SERVER_BIN: "/nonexistent/nats-server" });
    assert.equal(missing.code, 1);
    assert.equal(
      missing.stderr,
      'postwatch: invalid configuration: NATS_SERVER_BIN: does not exist (got "/nonexistent/nats-server")\n',
    );
    const dir = mkdtempSync(join(tmpdir(), "postwatch-bin-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const notExecutable = join(dir, "nats-server");
    writeFileSync(notExecutable, "");
    const { code, stderr } = postwatch(["start"], { NATS_SERVER_BIN: notExecutable });
    assert.equal(code, 1);
    assert.match(stderr, /^postwatch: invalid configuration: NATS_SERVER_BIN: is not executable/);
  });

  it("start reports the problems of every service at once, each variable once", () => {
    const { code, stderr } = postwatch(["start"], {
      SYSLOG_UDP_PORT: "abc",
      DETECTOR_REPLICAS: "0",
      SLACK_WEBHOOK_URL: "ftp://x",
      LOG_LEVEL: "loud",
      METRICS_PORT: "99999",
    });
    assert.equal(code, 1);
    assert.ok(oneLine(stderr), stderr);
    for (const variable of ["SYSLOG_UDP_PORT", "DETECTOR_REPLICAS", "SLACK_WEBHOOK_URL", "LOG_LEVEL"])
      assert.match(stderr, new RegExp(`${variable}: `), variable);
    assert.equal(stderr.split("LOG_LEVEL:").length, 2, "a variable every service reads is named once");
    assert.match(stderr, /METRICS_PORT: must be 1 to 65535, or 0 \(any free port\) \(got "99999"\)/);
  });

  it("refuses a config file key that no command reads, naming it", (t) => {
    const dir = mkdtempSync(join(tmpdir(), "postwatch-config-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "postwatch.json");
    writeFileSync(file, JSON.stringify({ SYSLOG_TCP_PRT: 1514, DETECTOR_REPLICAS: 2 }));
    const { code, stderr } = postwatch(["config"], { POSTWATCH_CONFIG_FILE: file });
    assert.equal(code, 1);
    assert.equal(
      stderr,
      `postwatch: invalid configuration: POSTWATCH_CONFIG_FILE: ${file}: unknown setting "SYSLOG_TCP_PRT" (did you mean SYSLOG_TCP_PORT?)\n`,
    );
  });

  it("refuses to start a receiver that would listen on no port", () => {
    const { code, stderr } = postwatch(["receiver"], {
      NATS_URL: "nats://127.0.0.1:1",
      SYSLOG_UDP_PORT: "0",
      SYSLOG_TCP_PORT: "0",
    });
    assert.equal(code, 1);
    assert.match(stderr, /SYSLOG_TCP_PORT: is 0 \(off\), as are SYSLOG_UDP_PORT and SYSLOG_TLS_PORT/);
  });

  it("replays the seed's brute force into a sasl_bruteforce alert naming the attacker", () => {
    const { code, stdout } = postwatch(["replay", `${FIXTURES}sasl-bruteforce-seed002.log`]);
    assert.equal(code, 0);
    assert.match(stdout, /FIRING +warning +sasl_bruteforce +client_ip=176\.103\.49\.30/);
    const json = postwatch(["replay", "--json", `${FIXTURES}sasl-bruteforce-seed002.log`]);
    const parsed = JSON.parse(json.stdout) as {
      alerts: { rule: string; key: { value: string } }[];
      stats: { lines: number };
    };
    assert.equal(parsed.stats.lines, 96);
    assert.deepEqual(
      parsed.alerts.filter((a) => a.rule === "sasl_bruteforce").map((a) => a.key.value),
      ["176.103.49.30"],
    );
  });

  it("parses stdin into one JSON event per Postfix line and never prints the AUTH payload", () => {
    const input = [
      "Feb 23 11:57:43 postfix/smtpd[32451]: Read 45 chars: AUTH PLAIN AGFkbWluQGZpcGljay5jb20Ad2lsb",
      "Feb 23 11:57:45 mx1 dovecot[1]: imap-login: Login: user=<a>",
      "Feb 23 11:57:45 postfix/smtpd[32451]: warning: unknown[176.103.49.30]: SASL PLAIN authentication failed: ",
    ].join("\n");
    const { code, stdout } = postwatch(["parse", "-"], {}, input);
    assert.equal(code, 0);
    const events = stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { kind: string; authUsername?: string });
    assert.deepEqual(
      events.map((e) => e.kind),
      ["debug", "sasl_auth_failed"],
    );
    assert.equal(events[0]?.authUsername, "admin@fipick.com");
    assert.ok(!stdout.includes("AGFkbWluQGZpcGljay5jb20Ad2lsb"));
  });

  it("stops quietly when its reader closes the pipe early, as `| head` does", async () => {
    // Far more output than a pipe buffers, so the writes after the reader is gone fail with EPIPE.
    const corpus = readFileSync(`${FIXTURES}postfix-corpus.log`, "utf8");
    const child = spawn(process.execPath, [MAIN, "parse", "-"], { stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.once("data", () => child.stdout.destroy());
    child.stdin.on("error", () => undefined);
    child.stdin.end(corpus.repeat(100));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    assert.equal(stderr, "");
    assert.equal(code, 0);
  });

  it("traces a bounced message of seed 003 to its non-delivery notification", () => {
    const { code, stdout } = postwatch(["trace", "418621D80D", `${FIXTURES}seed-003-relay-abuse.log`]);
    assert.equal(code, 0);
    assert.match(stdout, /418621D80D.*6711A1D7B7/);
    assert.match(stdout, /551 virus infected mail rejected/);
    const missing = postwatch(["trace", "NOSUCHID", `${FIXTURES}seed-003-relay-abuse.log`]);
    assert.equal(missing.code, 1);
  });

  it("answers usage mistakes with exit status 2", () => {
    assert.equal(postwatch(["frobnicate"]).code, 2);
    assert.equal(postwatch(["trace"]).code, 2);
    assert.equal(postwatch(["--help"]).code, 0);
  });

  describe("every command", () => {
    const names = commandNames();
    it("includes the service and offline commands", () => {
      for (const name of [
        "start",
        "receiver",
        "detector",
        "alerter",
        "config",
        "replay",
        "parse",
        "trace",
        "report",
      ])
        assert.ok(names.includes(name), name);
    });

    for (const name of names) {
      it(`${name} --help prints its usage and an example, exits 0 and starts nothing`, (t) => {
        const dataDir = join(mkdtempSync(join(tmpdir(), "postwatch-help-")), "nats");
        t.after(() => rmSync(dirname(dataDir), { recursive: true, force: true }));
        // Everything a service needs to really start, so only --help can keep it from starting.
        const { code, stdout, stderr } = postwatch([name, "--help"], {
          POSTWATCH_DATA_DIR: dataDir,
          POSTWATCH_CONFIG_FILE: join(dataDir, "missing.json"),
          NATS_URL: name === "start" ? "" : "nats://127.0.0.1:1",
          SYSLOG_HOST: "127.0.0.1",
          METRICS_PORT: "0",
        });
        assert.equal(code, 0, stderr);
        assert.equal(stderr, "");
        assert.match(stdout, new RegExp(`^Usage: postwatch ${name} `));
        assert.match(stdout, /\nExamples?:\n {2}\S/);
        assert.ok(!existsSync(dataDir), "no private nats-server was started");
      });

      it(`${name} answers an unknown option with one line and exit status 2`, () => {
        const { code, stdout, stderr } = postwatch([name, "--no-such-option"]);
        assert.equal(code, 2);
        assert.equal(stdout, "");
        assert.ok(oneLine(stderr), stderr);
        assert.match(
          stderr,
          new RegExp(`^postwatch: unknown option '--no-such-option' \\(see postwatch ${name} --help\\)`),
        );
      });
    }
  });

  it("names the rule and the setting of a typo in --rules", () => {
    const { code, stderr } = postwatch([
      "replay",
      "--rules",
      '{"sasl_bruteforce":{"treshold":3}}',
      `${FIXTURES}sasl-bruteforce-seed002.log`,
    ]);
    assert.equal(code, 2);
    assert.ok(oneLine(stderr), stderr);
    assert.match(
      stderr,
      /^postwatch: --rules: rule sasl_bruteforce: unknown setting "treshold" \(settings: .*threshold/,
    );
  });
});
