import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { configuredDestinations, loadAlerterConfig } from "./config.js";
import { routes } from "./destinations.js";
import { sampleAlert } from "./testing.js";

const NATS = { NATS_URL: "nats://127.0.0.1:4222" };
const SLACK = "https://hooks.slack.com/services/T000/B000/sl4ck-t0ken-value";
const list = (destinations: unknown) => ({ ...NATS, ALERTER_DESTINATIONS: JSON.stringify(destinations) });

describe("alert destinations", () => {
  it("keeps SLACK_WEBHOOK_URL and WEBHOOK_URL as shorthand, and adds the list's", () => {
    const config = loadAlerterConfig({
      ...list([
        { name: "oncall", type: "slack", url: SLACK, minSeverity: "critical" },
        { type: "alertmanager", url: "http://alertmanager:9093", rules: ["sasl_bruteforce"] },
      ]),
      SLACK_WEBHOOK_URL: SLACK,
      WEBHOOK_URL: "https://siem.example.net/hook",
      WEBHOOK_SECRET: "0123456789abcdef0123",
    });
    const destinations = configuredDestinations(config);
    assert.deepEqual(
      destinations.map((d) => [d.name, d.type, d.minSeverity, d.rules]),
      [
        ["slack", "slack", "warning", undefined],
        ["webhook", "webhook", "info", undefined],
        ["oncall", "slack", "critical", undefined],
        ["alertmanager", "alertmanager", "info", ["sasl_bruteforce"]],
      ],
    );
    assert.equal(destinations[1]?.type === "webhook" && destinations[1].secret, "0123456789abcdef0123");
  });

  it("routes by minimum severity and by rule: a warning-and-up Slack gets no info alert", () => {
    const slack = { minSeverity: "warning", rules: undefined } as const;
    assert.equal(routes(slack, sampleAlert({ severity: "info" })), false);
    assert.equal(routes(slack, sampleAlert({ severity: "warning" })), true);
    assert.equal(routes(slack, sampleAlert({ severity: "critical" })), true);
    const bruteOnly = { minSeverity: "info", rules: ["sasl_bruteforce"] } as const;
    assert.equal(routes(bruteOnly, sampleAlert({ rule: "relay_probe" })), false);
    assert.equal(routes(bruteOnly, sampleAlert()), true);
  });

  it("names the variable, the entry and the field of a mistake, and never echoes a URL", () => {
    const cases: [unknown, RegExp][] = [
      [
        [{ type: "slack", url: `hooks.slack.com/services/T000/B000/sl4ck-t0ken-value` }],
        /ALERTER_DESTINATIONS\[0\]\.url: must be a URL/,
      ],
      [
        [
          { type: "slack", url: SLACK },
          { type: "pagerduty", url: SLACK },
        ],
        /ALERTER_DESTINATIONS\[1\]\.type: /,
      ],
      [[{ type: "slack", url: SLACK, minSeverity: "high" }], /ALERTER_DESTINATIONS\[0\]\.minSeverity: /],
      [[{ type: "slack", url: SLACK, channel: "#sec" }], /ALERTER_DESTINATIONS\[0\]: .*channel/],
      [
        [{ type: "slack", url: SLACK, name: "Sec Team" }],
        /ALERTER_DESTINATIONS\[0\]\.name: must be 1-32 of a-z/,
      ],
      [
        [
          { type: "slack", url: SLACK },
          { type: "slack", url: SLACK },
        ],
        /two destinations are named "slack"/,
      ],
      [{ type: "slack", url: SLACK }, /ALERTER_DESTINATIONS: must be a JSON list of destinations/],
    ];
    for (const [destinations, expected] of cases) {
      assert.throws(
        () => loadAlerterConfig(list(destinations)),
        (error: Error) => {
          assert.match(error.message, expected);
          assert.ok(!error.message.includes("sl4ck-t0ken"), error.message);
          return true;
        },
      );
    }
    assert.throws(
      () => loadAlerterConfig({ ...NATS, ALERTER_DESTINATIONS: `[{"type": "slack", "url": "${SLACK}"` }),
      (error: Error) =>
        /ALERTER_DESTINATIONS: must be a JSON list/.test(error.message) && !error.message.includes("sl4ck"),
    );
    assert.throws(
      () => loadAlerterConfig({ ...list([{ type: "slack", url: SLACK }]), SLACK_WEBHOOK_URL: SLACK }),
      /two destinations are named "slack"/,
    );
  });
});
