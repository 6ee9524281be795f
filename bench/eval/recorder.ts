/**
 * Records one labelled scenario from a real Postfix (test/helpers/postfix.ts, Debian's 3.7) logging
 * through syslog(3) to a real rsyslogd, which writes the mail log as Debian's does (RFC 3339
 * timestamps, `RSYSLOG_FileFormat`). Actors are SMTP clients on loopback addresses of their own;
 * the remote Internet is an SMTP sink answering by a policy the scenario gives. Every action an
 * actor takes is written into the ground truth as it is taken: its address, the accounts it
 * logged in as, and when its evidence was complete.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type PostfixServer, startPostfix } from "../../test/helpers/postfix.js";
import { RSYSLOGD, type Rsyslogd, startRsyslogd } from "../../test/helpers/rsyslogd.js";
import {
  type SmtpSession,
  type SmtpTalk,
  sendRaw,
  smtpSession,
  smtpTalk,
} from "../../test/helpers/smtp-clients.js";
import { type InternetPolicy, type SmtpSink, startSmtpSink } from "../../test/helpers/smtp-sink.js";
import { everyStoryEnded } from "../../test/integration/postfix-scenario.js";
import type { Actor as ActorTruth, Scenario } from "./truth.js";

const DAY_SECONDS = 86_400;
/** How long the log must stay unchanged (anvil's statistics aside) before a phase is over. */
const SETTLE_MS = 1500;

export interface ActorSpec {
  name: string;
  role: "attacker" | "benign";
  does: string;
  /** Its client addresses; actions use the first unless they name another. */
  addresses: readonly string[];
  expect?: readonly string[];
}

type Port = "smtp" | "submission" | "postscreen";

/** One actor: SMTP actions from its own addresses, each recorded in its ground truth. */
export class ActorDriver {
  readonly truth: ActorTruth;

  constructor(
    private readonly scene: Scene,
    private readonly spec: ActorSpec,
  ) {
    this.truth = {
      name: spec.name,
      role: spec.role,
      does: spec.does,
      clientIps: [],
      saslUsers: [],
      expect: [...(spec.expect ?? [])],
    };
  }

  /** A swaks session; `address` picks one of the actor's addresses. */
  async session(port: Port, session: Omit<SmtpSession, "port" | "localAddress">, address?: string) {
    const from = this.act(address);
    if (session.auth !== undefined && this.scene.users[session.auth.user] === session.auth.password)
      this.addOnce(this.truth.saslUsers, session.auth.user);
    return smtpSession({ ...session, port: this.scene.postfix.ports[port], localAddress: from });
  }

  /** Logs in as `user` and sends one message. */
  sendAs(user: string, to: string | readonly string[], content: { subject: string; body: string }) {
    return this.session("submission", {
      ehlo: "client.example.net",
      auth: { mechanism: "PLAIN", user, password: this.scene.passwordOf(user) },
      from: user,
      to,
      // Many recipients go as Bcc, as list software and spam runs send them.
      header: [
        `Subject: ${content.subject}`,
        ...(typeof to === "string" || to.length < 5 ? [] : ["To: undisclosed-recipients:;"]),
      ],
      body: content.body,
    });
  }

  /** One AUTH with a password that is wrong (or right), then QUIT. */
  guess(user: string, password: string, address?: string, mechanism: "PLAIN" | "LOGIN" = "PLAIN") {
    return this.session(
      "submission",
      { ehlo: "localhost", auth: { mechanism, user, password }, authOnly: true },
      address,
    );
  }

  talk(port: Port, talk: Omit<SmtpTalk, "localAddress">, address?: string) {
    return smtpTalk(this.scene.postfix.ports[port], { ...talk, localAddress: this.act(address) });
  }

  raw(port: Port, text: string, address?: string) {
    return sendRaw(this.scene.postfix.ports[port], text, { localAddress: this.act(address) });
  }

  /** The driver's word that this attack's evidence is now all in the server's hands. */
  evidenceComplete(): void {
    this.truth.evidenceCompleteAt = new Date().toISOString();
  }

  private act(address = this.spec.addresses[0]): string {
    if (address === undefined || !this.spec.addresses.includes(address))
      throw new Error(`${this.spec.name} has no address ${address}`);
    this.addOnce(this.truth.clientIps, address);
    if (this.scene.scoredPhase && this.truth.firstActionAt === undefined)
      this.truth.firstActionAt = new Date().toISOString();
    return address;
  }

  private addOnce(list: string[], value: string): void {
    if (!list.includes(value)) list.push(value);
  }
}

interface PhaseMark {
  name: string;
  /** Bytes of the log written before the phase began. */
  startByte: number;
}

/**
 * One recording: a Postfix, its rsyslogd and the Internet sink, the actors, and the phases
 * (days). The last phase is the day the evaluation scores; earlier ones are history.
 */
export class Scene {
  readonly actors: ActorDriver[] = [];
  private readonly phases: PhaseMark[] = [];
  scoredPhase = false;

  private constructor(
    readonly name: string,
    readonly title: string,
    readonly users: Readonly<Record<string, string>>,
    readonly postfix: PostfixServer,
    readonly sink: SmtpSink,
    private readonly rsyslog: Rsyslogd,
    private readonly dir: string,
  ) {}

  static async start(options: {
    name: string;
    title: string;
    users: Readonly<Record<string, string>>;
    internet: InternetPolicy;
  }): Promise<Scene> {
    const dir = mkdtempSync(join(tmpdir(), `postwatch-eval-${options.name}-`));
    const socket = join(dir, "log.sock");
    const rsyslog = await startRsyslogd({
      readyPorts: [],
      globals: 'localHostname="mx1"',
      config: [
        'module(load="imuxsock" SysSock.Use="off")',
        `input(type="imuxsock" Socket="${socket}" RateLimit.Interval="0")`,
        `*.* action(type="omfile" file="${join(dir, "mail.log")}" template="RSYSLOG_FileFormat")`,
      ].join("\n"),
    });
    for (let waited = 0; !existsSync(socket); waited += 50) {
      if (waited > 10_000) throw new Error(`rsyslogd made no ${socket}: ${rsyslog.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const sink = await startSmtpSink(options.internet);
    const postfix = await startPostfix({
      users: options.users,
      syslogSocket: socket,
      internetPort: sink.port,
      troubleListeners: false,
    });
    const scene = new Scene(options.name, options.title, options.users, postfix, sink, rsyslog, dir);
    scene.phases.push({ name: "history", startByte: 0 });
    // startPostfix's own action: it connects to every listener until each accepts.
    scene
      .actor({
        name: "readiness-probe",
        role: "benign",
        does: "the recorder connects to each listener until it accepts, then hangs up",
        addresses: ["127.0.0.1", "::1"],
      })
      .truth.clientIps.push("127.0.0.1", "::1");
    return scene;
  }

  actor(spec: ActorSpec): ActorDriver {
    const actor = new ActorDriver(this, spec);
    this.actors.push(actor);
    return actor;
  }

  passwordOf(user: string): string {
    const password = this.users[user];
    if (password === undefined) throw new Error(`${user} is not one of ${this.name}'s accounts`);
    return password;
  }

  /**
   * Ends the current phase once Postfix has logged every story of it, and starts the next. `scored`
   * marks the day the evaluation scores (the last phase); earlier phases are history.
   */
  async nextPhase(name: string, { scored = false } = {}): Promise<void> {
    await this.settle();
    this.phases.push({ name, startByte: statSync(this.logFile).size });
    this.scoredPhase = scored;
  }

  /** Waits until the sink has answered `count` recipients in all. */
  async waitForAnswers(count: number, timeoutMs = 60_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.sink.answers.length < count) {
      if (Date.now() > until)
        throw new Error(`the Internet answered ${this.sink.answers.length} of ${count}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Settles, stops everything and writes `<name>.log` and `<name>.json` into `outDir`. */
  async finish(outDir: string): Promise<Scenario> {
    try {
      await this.settle();
      const log = readFileSync(this.logFile);
      const version = /daemon started -- version (\S+),/.exec(log.toString())?.[1] ?? "unknown";
      const bounds = [...this.phases.map((p) => p.startByte), log.length];
      const phases = this.phases.map((phase, i) => {
        const text = log.subarray(bounds[i], bounds[i + 1]).toString("utf8");
        const shiftedSeconds = -DAY_SECONDS * (this.phases.length - 1 - i);
        const lines = text.split("\n").filter((line) => line !== "");
        return {
          name: phase.name,
          shiftedSeconds,
          lines: lines.map((line) => shiftLine(line, shiftedSeconds)),
        };
      });
      writeFileSync(
        join(outDir, `${this.name}.log`),
        phases
          .flatMap((p) => p.lines)
          .join("\n")
          .concat("\n"),
      );
      const scenario: Scenario = {
        name: this.name,
        title: this.title,
        source: "recorded",
        recordedWith: `Postfix ${version} (Debian), syslog(3) to rsyslogd ${rsyslogVersion()} (RSYSLOG_FileFormat), by bench/eval/record.ts`,
        phases: phases.map((p) => ({
          name: p.name,
          lines: p.lines.length,
          shiftedSeconds: p.shiftedSeconds,
        })),
        actors: this.actors.map((actor) => actor.truth),
      };
      writeFileSync(join(outDir, `${this.name}.json`), `${JSON.stringify(scenario, null, 2)}\n`);
      return scenario;
    } finally {
      await this.stop();
    }
  }

  async stop(): Promise<void> {
    await this.postfix.stop();
    await this.sink.close();
    await this.rsyslog.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private get logFile(): string {
    return join(this.dir, "mail.log");
  }

  /** Every message Postfix took has been delivered or bounced, and its log has gone quiet. */
  private async settle(timeoutMs = 60_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    let last = "";
    let quietSince = Date.now();
    for (;;) {
      const log = existsSync(this.logFile) ? readFileSync(this.logFile, "utf8") : "";
      const telling = log.replace(/^.* postfix\/anvil\[\d+\]: .*\n/gm, "");
      if (telling !== last) {
        last = telling;
        quietSince = Date.now();
      }
      const ended = !/nrcpt=/.test(log) || everyStoryEnded(log, { deferral: false });
      if (ended && Date.now() - quietSince >= SETTLE_MS) return;
      if (Date.now() > until)
        throw new Error(`${this.name}: the log never settled; its tail:\n${log.slice(-2000)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** `2026-12-07T14:41:25.123456+00:00 ...` moved by `seconds`, in the same precision and offset. */
export function shiftLine(line: string, seconds: number): string {
  if (seconds === 0) return line;
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?([+-]\d\d:\d\d|Z) /.exec(line);
  if (match === null) throw new Error(`not an RFC 3339 syslog line: ${line.slice(0, 80)}`);
  const [whole, clock, fraction = "", zone] = match as unknown as [
    string,
    string,
    string | undefined,
    string,
  ];
  // The wall clock moves with its offset unchanged (rsyslogd runs in UTC: no daylight saving).
  const shifted = new Date(Date.parse(`${clock}Z`) + seconds * 1000).toISOString().slice(0, 19);
  return `${shifted}${fraction}${zone} ${line.slice(whole.length)}`;
}

function rsyslogVersion(): string {
  return /rsyslogd\s+(\S+)/.exec(execFileSync(RSYSLOGD, ["-v"], { encoding: "utf8" }))?.[1] ?? "unknown";
}
