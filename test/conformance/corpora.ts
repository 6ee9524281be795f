/**
 * The public Postfix corpora in ../shared/corpora/external (see its README), read into one shape:
 * each line with what its upstream expects of it. Never copied into this repository.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";

/** Expected field values; an array means "one of these". Keys are those of view.ts's FieldView. */
export type Expected = Record<string, string | number | readonly string[]>;

export interface Case {
  line: string;
  /** False for what the upstream calls malformed or unsupported: it must not become a known kind. */
  wellFormed: boolean;
  expected: Expected;
}

/** An upstream counter over a group of lines (the exporters' table tests): `count` events match. */
export interface CounterCase {
  name: string;
  lines: readonly string[];
  counter: string;
  count: number;
}

export interface Corpus {
  name: string;
  cases: Case[];
  counters: CounterCase[];
}

export const CORPORA_DIR = new URL("../../../../shared/corpora/external/", import.meta.url);

export function corporaPresent(): boolean {
  return existsSync(CORPORA_DIR);
}

function text(path: string): string {
  return readFileSync(new URL(path, CORPORA_DIR), "utf8");
}

function inputLines(folder: string): string[] {
  return text(`${folder}/input.log`).split("\n").slice(0, -1);
}

function jsonLines(folder: string): Record<string, unknown>[] {
  return text(`${folder}/expected.jsonl`)
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function json(path: string): Record<string, unknown> {
  return JSON.parse(text(path)) as Record<string, unknown>;
}

/** Pairs input.log's lines with expected.jsonl's, which the README promises are one to one. */
function paired(folder: string, expect: (upstream: Record<string, unknown>) => Omit<Case, "line">): Case[] {
  const lines = inputLines(folder);
  const expectations = jsonLines(folder);
  if (lines.length !== expectations.length) throw new Error(`${folder}: lines and expectations differ`);
  return lines.map((line, i) => ({ line, ...expect(expectations[i] as Record<string, unknown>) }));
}

/** Keeps the entries of `values` whose upstream key is in `keys`, under postwatch's name. */
function renamed(values: Record<string, unknown>, keys: Record<string, string>): Expected {
  const out: Expected = {};
  for (const [theirs, ours] of Object.entries(keys)) {
    const value = values[theirs];
    if (typeof value === "string") out[ours] = value;
  }
  return out;
}

/** `host[ip]:port` as the fields an endpoint view compares. */
function endpointFields(value: string): Expected {
  const match = /^([^[]*)\[([^\]]*)\](?::(\d+))?$/.exec(value);
  if (match === null) return {};
  const out: Expected = { host: match[1] as string, ip: match[2] as string };
  if (match[3] !== undefined) out.port = Number(match[3]);
  return out;
}

const GROK_RESULTS: Record<string, string> = {
  postfix_client_hostname: "host",
  postfix_client_ip: "ip",
  postfix_client_ip_unknown: "ip",
  postfix_client_port: "port",
  postfix_relay_hostname: "host",
  postfix_relay_ip: "ip",
  postfix_relay_port: "port",
  postfix_queueid: "queueId",
  postfix_smtp_stage: "stage",
  postfix_proxy_smtp_stage: "stage",
  postfix_status: "status",
  postfix_status_code: "smtpCode",
  postfix_proxy_status_code: "smtpCode",
  postfix_status_code_enhanced: "dsn",
  postfix_proxy_status_code_enhanced: "dsn",
  postfix_from: "from",
  "postfix_message-id": "messageId",
  postfix_bounce_queueid: "bounceQueueId",
};
const GROK_KV: Record<string, string> = {
  postfix_to: "to",
  postfix_from: "from",
  postfix_orig_to: "origTo",
  postfix_relay: "relay",
  postfix_dsn: "dsn",
  postfix_helo: "helo",
  postfix_relay_hostname: "host",
  postfix_relay_ip: "ip",
  postfix_relay_port: "port",
  postfix_client_hostname: "host",
  postfix_client_ip: "ip",
};

function grok(): Corpus {
  const cases = paired("grok", (upstream) => {
    const expected = {
      ...renamed(upstream.results as Record<string, unknown>, GROK_RESULTS),
      ...renamed(upstream.kv_derived as Record<string, unknown>, GROK_KV),
    };
    for (const key of ["port", "smtpCode"]) if (key in expected) expected[key] = Number(expected[key]);
    // grok captures NOQUEUE as the queue ID; postwatch leaves it out, as Postfix means "none".
    if (expected.queueId === "NOQUEUE") delete expected.queueId;
    return { wellFormed: true, expected };
  });
  return { name: "grok", cases, counters: [] };
}

function fail2ban(): Corpus {
  const cases = paired("fail2ban", (upstream) => {
    const fail = upstream.failJSON as { match: boolean; host?: string; user?: string };
    const expected: Expected = {};
    if (fail.match && fail.host !== undefined) expected.ip = fail.host;
    if (fail.user !== undefined) expected.saslUsername = fail.user;
    return { wellFormed: true, expected };
  });
  return { name: "fail2ban", cases, counters: [] };
}

const CROWDSEC_PARSER: Record<string, string> = {
  remote_addr: "ip",
  remote_host: "host",
  helo: "helo",
  smtp_basic_status_code: "smtpCode",
  smtp_enhanced_status_code: "dsn",
};

function crowdsec(): Corpus {
  const cases: Case[] = [];
  for (const test of readdirSync(new URL("crowdsec/", CORPORA_DIR)).sort()) {
    const upstream = json(`crowdsec/${test}/expected.json`);
    const parsed = upstream.parser_expected as Record<string, string>[] | null;
    const banned = upstream.expected_ban_ips as string[];
    inputLines(`crowdsec/${test}`).forEach((line, i) => {
      const expected: Expected = {};
      const fields = parsed?.[i];
      if (fields !== undefined) {
        Object.assign(expected, renamed(fields, CROWDSEC_PARSER));
        if ("smtpCode" in expected) expected.smtpCode = Number(expected.smtpCode);
        // `command` is the rejected SMTP command on a reject, the client's garbage on non-SMTP lines.
        if (fields.action !== undefined && fields.command !== undefined) expected.stage = fields.command;
        if (fields.message_failure !== undefined) expected.saslReason = fields.message_failure.trim();
      } else if (banned.length > 0) expected.ip = banned;
      cases.push({ line, wellFormed: true, expected });
    });
  }
  return { name: "crowdsec", cases, counters: [] };
}

interface ExporterCase {
  name: string;
  lines: string[];
  expect: Record<string, number>;
  expects_unsupported_entries: boolean;
}

/** The exporters' table tests: every line is a Postfix line, and each counter is checked per case. */
function exporter(folder: string): Corpus {
  const upstream = json(`${folder}/expected.json`).cases as ExporterCase[];
  const cases = paired(folder, () => ({ wellFormed: true, expected: {} }));
  const counters = upstream.flatMap((test) =>
    Object.entries(test.expect).map(([counter, count]) => ({
      name: test.name,
      lines: test.lines,
      counter,
      count,
    })),
  );
  return { name: folder, cases, counters };
}

/** sergeymakinen's mail.log: malformed and `Unsupported` lines on purpose, metrics for the rest. */
function sergeymakinen(): Corpus {
  const cases = paired("exporter-sergeymakinen", (upstream) => ({
    wellFormed: upstream.section !== "Unsupported or malformed",
    expected: {},
  }));
  for (const test of cases)
    if (/: (?:NOQUEUE: reject: )?Unsupported$/.test(test.line)) test.wellFormed = false;
  const metrics = json("exporter-sergeymakinen/expected.json").metrics_without_config as string;
  const lines = cases.map((test) => test.line);
  const counters: CounterCase[] = [];
  for (const line of metrics.split("\n")) {
    const sample = /^(postfix_[a-z_]+_total)\{([^}]*)\} (\d+)$/.exec(line);
    if (sample === null) continue;
    counters.push({
      name: "mail.log",
      lines,
      counter: `${sample[1]}{${sample[2]}}`,
      count: Number(sample[3]),
    });
  }
  return { name: "exporter-sergeymakinen", cases, counters };
}

const MSIMERSON: Record<string, string> = {
  qid: "queueId",
  to: "to",
  from: "from",
  orig_to: "origTo",
  relay: "relay",
  dsn: "dsn",
  "message-id": "messageId",
  sasl_username: "saslUsername",
  sasl_method: "saslMethod",
  dsnQid: "bounceQueueId",
  forwardedAs: "forwardedQueueId",
};

function msimerson(): Corpus {
  const cases = paired("extra/msimerson-postfix-parser", (upstream) => {
    const obj = upstream.obj as Record<string, string> | null;
    if (obj === null) return { wellFormed: false, expected: {} };
    const expected = renamed(obj, MSIMERSON);
    if (obj.status !== undefined) expected.status = obj.status.split(/[ ,]/)[0] as string;
    for (const key of ["client", "mx"])
      if (obj[key] !== undefined) Object.assign(expected, endpointFields(obj[key]));
    if (upstream.type === "syslog") {
      Object.assign(expected, renamed(obj, { host: "syslogHost", prog: "program" }));
      if (obj.pid !== undefined) expected.pid = Number(obj.pid);
    } else if (obj.host !== undefined) Object.assign(expected, endpointFields(obj.host));
    return { wellFormed: true, expected };
  });
  return { name: "msimerson-postfix-parser", cases, counters: [] };
}

function sshguard(): Corpus {
  const cases = paired("extra/sshguard", (upstream) => ({
    wellFormed: true,
    expected: { ip: upstream.ip as string },
  }));
  return { name: "sshguard", cases, counters: [] };
}

function wazuh(): Corpus {
  const cases = paired("extra/wazuh", (upstream) => ({
    wellFormed: true,
    expected: { ip: (upstream.fields as Record<string, string>).srcip as string },
  }));
  return { name: "wazuh", cases, counters: [] };
}

export function loadCorpora(): Corpus[] {
  return [
    grok(),
    fail2ban(),
    crowdsec(),
    exporter("exporter-kumina"),
    exporter("exporter-hsn723"),
    sergeymakinen(),
    msimerson(),
    sshguard(),
    wazuh(),
  ];
}
