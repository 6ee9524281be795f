/**
 * The `postwatch` command line. Each command is declared once, with its arguments, options and an
 * example, and commander derives its `--help` and its usage errors from that declaration, so help
 * and parsing cannot drift apart. A new command is one more `command(...)` block below.
 */
import { Command, InvalidArgumentError } from "commander";
import type { Env } from "../../../shared/src/runtime/config.js";
import { stopOnSignals } from "../../../shared/src/runtime/service.js";
import { RuleConfigError } from "../../detector/src/engine/rule.js";
import { loadRules } from "../../detector/src/rules/index.js";
import { configCommand } from "./config-command.js";
import { deadLettersCommand } from "./dead-letters-command.js";
import { parseCommand, replayCommand, reportCommand, traceCommand } from "./offline.js";
import { runAll, runOne, SERVICES, type ServiceName } from "./online.js";

export type Outcome = number | "running";

export interface CliContext {
  env: Env;
  out: (text: string) => void;
  /** Offline commands read standard input without a FILE only when it is not a terminal. */
  stdinIsTerminal: boolean;
  version: string;
}

/** A mistake in the command line: one line on stderr, exit status 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

const SETTINGS_HELP =
  "Settings come from environment variables and POSTWATCH_CONFIG_FILE (docs/configuration.md); " +
  "`postwatch config` prints the ones it would start with.";

const STDIN_HELP =
  "With no FILE, standard input is read if it is a pipe or a file (not a terminal); - reads it too.";

/** Builds the program; the chosen command's action reports what it did through `settle`. */
export function buildProgram(context: CliContext, settle: (outcome: Outcome) => void): Command {
  const { out } = context;
  const program = new Command("postwatch")
    .description("Live security monitor for Postfix mail servers.")
    .version(context.version, "--version", "print the version")
    .helpCommand("help [COMMAND]", "show the help of a command")
    .exitOverride()
    .configureOutput({ writeOut: out, outputError: () => undefined });

  const serve = async (run: () => ReturnType<typeof runAll>) => {
    stopOnSignals(await run());
    settle("running");
  };

  command(program, {
    name: "start",
    summary: "run the whole pipeline here: receiver, detector, alerter (and a private nats-server)",
    details: `Without NATS_URL, a private nats-server (from PATH, /usr/sbin, or NATS_SERVER_BIN) runs with its data under POSTWATCH_DATA_DIR (./.postwatch/nats) and stops with postwatch.

${SETTINGS_HELP}`,
    examples: ["npm start", "SLACK_WEBHOOK_URL=https://hooks.slack.com/services/... postwatch start"],
  }).action(() => serve(() => runAll(context.env)));

  for (const name of Object.keys(SERVICES) as ServiceName[]) {
    command(program, {
      name,
      summary: SERVICE_SUMMARIES[name],
      details: `One service on its own, for separate deployment; NATS_URL names the NATS server (JetStream on).\n\n${SETTINGS_HELP}`,
      examples: [`NATS_URL=nats://nats.example.net:4222 postwatch ${name}`],
    }).action(() => serve(() => runOne(name, context.env)));
  }

  command(program, {
    name: "config",
    summary: "print the settings each service would start with (secrets hidden)",
    details: `Defaults, POSTWATCH_CONFIG_FILE and the environment applied, as JSON. URLs show only their host, other secrets only that they are set. A bad value fails as the service would.`,
    examples: ["postwatch config", "POSTWATCH_CONFIG_FILE=/etc/postwatch.json postwatch config receiver"],
  })
    .argument("[SERVICE...]", `any of ${Object.keys(SERVICES).join(", ")} (default: all)`)
    .action((names: string[]) => {
      const unknown = names.find((name) => !(name in SERVICES));
      if (unknown !== undefined)
        throw new UsageError(`unknown service "${unknown}" (services: ${Object.keys(SERVICES).join(", ")})`);
      settle(configCommand(names as ServiceName[], context.env, out));
    });

  command(program, {
    name: "replay",
    summary: "run the detection rules over mail logs offline and print the alerts",
    details: `The same correlation and rules as the live detector, on the logs' own time. ${STDIN_HELP}`,
    examples: [
      "postwatch replay /var/log/mail.log",
      `zcat /var/log/mail.log.*.gz | postwatch replay --rules '{"sasl_bruteforce":{"threshold":10}}'`,
    ],
  })
    .argument("[FILE...]", "mail logs, in order")
    .option("--json", 'print one JSON object { "alerts": [...], "stats": {...} }')
    .option("--rules <JSON>", "rule overrides, as DETECTOR_RULES (docs/rules.md)", parseRuleOverrides)
    .action(async (files: string[], options: { json?: true; rules?: Record<string, unknown> }) => {
      const { json = false, rules = {} } = options;
      checkRuleOverrides(rules);
      settle(await replayCommand(inputsOf(files, context), { json, rules }, out));
    });

  command(program, {
    name: "parse",
    summary: "print one JSON event per Postfix line (NDJSON)",
    details: `Lines of other programs are skipped; passwords in AUTH lines never appear. ${STDIN_HELP}`,
    examples: ["postwatch parse /var/log/mail.log | jq -c 'select(.kind == \"sasl_auth_failed\")'"],
  })
    .argument("[FILE...]", "mail logs")
    .action(async (files: string[]) => {
      settle(await parseCommand(inputsOf(files, context), out));
    });

  command(program, {
    name: "trace",
    summary: "the whole story of one message, across bounces and content filters",
    details: `Its client and SASL user, every delivery attempt, bounces and content-filter hand-offs. ${STDIN_HELP}`,
    examples: ["postwatch trace 418621D80D /var/log/mail.log /var/log/mail.log.1"],
  })
    .argument("<QUEUEID>", "the Postfix queue ID, as in `postfix/cleanup[…]: 418621D80D: …`")
    .argument("[FILE...]", "mail logs, in order")
    .action(async (queueId: string, files: string[]) => {
      settle(await traceCommand(queueId, inputsOf(files, context), out));
    });

  command(program, {
    name: "report",
    summary: "senders by volume with their IPs and bounces, failing clients, pflogsumm-style totals",
    details: `SASL accounts (and local sendmail users) by recipients, with their client IPs, bounce ratio and the remote servers' rejection reasons; clients failing SASL or rejected most. ${STDIN_HELP}`,
    examples: ["postwatch report --top 3 /var/log/mail.log"],
  })
    .argument("[FILE...]", "mail logs")
    .option("--top <N>", "how many senders, clients and IPs each to list", parseTop, 10)
    .action(async (files: string[], options: { top: number }) => {
      settle(await reportCommand(inputsOf(files, context), options, out));
    });

  command(program, {
    name: "dead-letters",
    summary: "list the messages set aside as unusable, and send them again",
    details: `Events this detector could not read (a newer schema during an upgrade) and alerts no sink took after every attempt, one line each: when, where from, and why. NATS_URL names the NATS server. ${SETTINGS_HELP}`,
    examples: ["NATS_URL=nats://127.0.0.1:4222 postwatch dead-letters", "postwatch dead-letters --resend"],
  })
    .option(
      "--resend",
      "publish each one to its original subject again (once the cause is fixed), then remove it",
    )
    .action(async (options: { resend?: true }) => {
      settle(await deadLettersCommand(context.env, { resend: options.resend === true }, out));
    });

  return program;
}

const SERVICE_SUMMARIES: Record<ServiceName, string> = {
  receiver: "syslog listeners (UDP, TCP, TLS) → parsed events on NATS JetStream",
  detector: "events → correlation and detection rules → alerts, and Postfix metrics",
  alerter: "alerts → Slack and webhooks, deduplicated, grouped, retried",
};

/** Every command is declared the same way: a one-line summary, details, and at least one example. */
function command(
  program: Command,
  spec: { name: string; summary: string; details: string; examples: readonly string[] },
): Command {
  return program
    .command(spec.name)
    .summary(spec.summary)
    .description(`${spec.summary[0]?.toUpperCase()}${spec.summary.slice(1)}.\n\n${spec.details}`)
    .addHelpText(
      "after",
      `\nExample${spec.examples.length > 1 ? "s" : ""}:\n${spec.examples.map((e) => `  ${e}`).join("\n")}\n`,
    );
}

/** No FILE: standard input, unless it is a terminal (nobody is typing a mail log). */
function inputsOf(files: readonly string[], context: CliContext): readonly string[] {
  if (files.length > 0) return files;
  if (context.stdinIsTerminal)
    throw new UsageError("no FILE given: name a mail log, or pipe one in (- reads standard input)");
  return ["-"];
}

function parseTop(text: string): number {
  const top = Number(text);
  if (!Number.isInteger(top) || top < 1) throw new InvalidArgumentError("must be a whole number ≥ 1");
  return top;
}

function parseRuleOverrides(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new InvalidArgumentError(`must be JSON, e.g. '{"sasl_bruteforce":{"threshold":10}}'`);
  }
}

/** A typo in --rules names the rule and the setting, before any log is read. */
function checkRuleOverrides(overrides: unknown): void {
  try {
    loadRules(overrides);
  } catch (error) {
    if (error instanceof RuleConfigError) throw new UsageError(`--rules: ${error.issues.join("; ")}`);
    throw error;
  }
}
