import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sampleAlert } from "../../../services/alerter/src/testing.js";
import { formatAlert } from "../report/alert-text.js";
import { createLogger, logFormatFor } from "./log.js";
import { formatLogLine } from "./pretty-log.js";

/** What a real pino logger of ours writes, one JSON line per call. */
function logged(write: (logger: ReturnType<typeof createLogger>) => void): string[] {
  const lines: string[] = [];
  const logger = createLogger({ level: "info", service: "postwatch" }, { write: (line) => lines.push(line) });
  write(logger);
  return lines;
}

describe("pretty log lines", () => {
  it("put the clock, level, component and message first, the other fields after", () => {
    const [line] = logged((logger) =>
      logger
        .child({ component: "receiver" })
        .info({ host: "0.0.0.0", port: 5514 }, "listening for syslog over TCP"),
    );
    assert.match(
      formatLogLine(line as string),
      /^\d\d:\d\d:\d\d INFO {2}receiver: listening for syslog over TCP {2}host=0\.0\.0\.0 port=5514\n$/,
    );
  });

  it("keep secrets redacted, as the JSON lines do", () => {
    const [line] = logged((logger) =>
      logger.info(
        { config: { SLACK_WEBHOOK_URL: "https://hooks.slack.com/services/T0/B0/s3cret" } },
        "config",
      ),
    );
    const text = formatLogLine(line as string);
    assert.ok(!text.includes("s3cret"), text);
    assert.match(text, /\[redacted\]/);
  });

  it("print an alert as postwatch replay prints it", () => {
    const alert = sampleAlert();
    const [line] = logged((logger) => logger.warn({ alert }, "SASL brute force"));
    assert.equal(formatLogLine(line as string), `${formatAlert(alert)}\n`);
  });

  it("print a banner as an aligned block under its line", () => {
    const [line] = logged((logger) =>
      logger.info({ banner: { syslog: "TCP 0.0.0.0:5514", NATS: "nats.example:4222" } }, "postwatch running"),
    );
    assert.match(
      formatLogLine(line as string),
      /postwatch: postwatch running\n {2}syslog {2}TCP 0\.0\.0\.0:5514\n {2}NATS {4}nats\.example:4222\n$/,
    );
  });

  it("colour the level only when asked", () => {
    const [line] = logged((logger) => logger.warn("careful"));
    assert.ok(!formatLogLine(line as string).includes("\x1b["));
    assert.ok(formatLogLine(line as string, true).includes("\x1b[33mWARN \x1b[0m postwatch: careful"));
  });

  it("pass a line that is not JSON through untouched", () => {
    assert.equal(formatLogLine("not json\n"), "not json\n");
  });
});

describe("LOG_FORMAT", () => {
  it("auto is pretty on a terminal and JSON elsewhere; json and pretty are taken as said", () => {
    assert.equal(logFormatFor("auto", true), "pretty");
    assert.equal(logFormatFor("auto", false), "json");
    assert.equal(logFormatFor("json", true), "json");
    assert.equal(logFormatFor("pretty", false), "pretty");
  });
});
