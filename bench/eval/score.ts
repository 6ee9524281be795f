/**
 * Scoring postwatch's alerts against a scenario's ground truth. An alert is about the actors its
 * key names: a client address (or a network holding one of theirs), or an account they logged in
 * as. An alert keyed by neither (global, host), or one that accuses the clients failing against an
 * account rather than its logins (account_targeted), is about the actors whose addresses or
 * accounts it relates. Attackers take precedence: an alert about an attacker is a detection of it,
 * one about benign actors only is a false alarm on them, one about no actor is listed apart.
 */
import type { Alert } from "../../shared/src/contracts/alerts.js";
import type { Actor, Scenario } from "./truth.js";

export interface RaisedAlert {
  alert: Alert;
  /** Event time the alert was raised at (see EventTimeReplay.raisedAtMs). */
  atMs: number;
}

export interface Detection {
  rule: string;
  severity: Alert["severity"];
  /** Seconds from the actor's first line in the log to the alert; undefined without such a line. */
  afterFirstLineSeconds: number | undefined;
  /** Seconds from the driver's "evidence complete" to the alert (negative: sooner). */
  afterEvidenceSeconds: number | undefined;
}

export interface ActorVerdict {
  actor: Actor;
  /** Firing alerts about this actor, first per rule. */
  alerts: Detection[];
  /** Attackers: expected rules that did not fire on it. */
  missed: string[];
}

export interface ScenarioScore {
  scenario: Scenario;
  actors: ActorVerdict[];
  /** Firing alerts about no actor of the scenario. */
  unattributed: RaisedAlert[];
}

/** `firstLineMs`: the event time of each client address's first line in the scored log. */
export function scoreScenario(
  scenario: Scenario,
  raised: readonly RaisedAlert[],
  firstLineMs: ReadonlyMap<string, number>,
): ScenarioScore {
  const about = new Map<Actor, RaisedAlert[]>(scenario.actors.map((actor) => [actor, []]));
  const unattributed: RaisedAlert[] = [];
  for (const entry of raised) {
    if (entry.alert.state !== "firing") continue;
    const named = actorsNamedBy(entry.alert, scenario.actors);
    const attackers = named.filter((actor) => actor.role === "attacker");
    const subjects = attackers.length > 0 ? attackers : named;
    if (subjects.length === 0) unattributed.push(entry);
    for (const actor of subjects) about.get(actor)?.push(entry);
  }
  const actors = scenario.actors.map((actor): ActorVerdict => {
    const firstMs = Math.min(...actor.clientIps.map((ip) => firstLineMs.get(ip) ?? Number.POSITIVE_INFINITY));
    const evidenceMs =
      actor.evidenceCompleteAt === undefined ? undefined : Date.parse(actor.evidenceCompleteAt);
    const alerts: Detection[] = [];
    for (const { alert, atMs } of about.get(actor) ?? []) {
      if (alerts.some((seen) => seen.rule === alert.rule)) continue;
      alerts.push({
        rule: alert.rule,
        severity: alert.severity,
        afterFirstLineSeconds: Number.isFinite(firstMs) ? (atMs - firstMs) / 1000 : undefined,
        afterEvidenceSeconds: evidenceMs === undefined ? undefined : (atMs - evidenceMs) / 1000,
      });
    }
    const missed = actor.expect.filter((rule) => !alerts.some((seen) => seen.rule === rule));
    return { actor, alerts, missed };
  });
  return { scenario, actors, unattributed };
}

/** Whether every attacker raised its expected rules and no benign actor was alerted on. */
export function meetsTheBar(verdict: ActorVerdict): boolean {
  return verdict.actor.role === "attacker" ? verdict.missed.length === 0 : verdict.alerts.length === 0;
}

/** Rules keyed by an account whose alert is about the addresses failing against it, not its logins. */
const ABOUT_RELATED_CLIENTS = new Set(["account_targeted"]);

function actorsNamedBy(alert: Alert, actors: readonly Actor[]): Actor[] {
  const { type, value } = alert.key;
  if (ABOUT_RELATED_CLIENTS.has(alert.rule)) return actorsRelatedTo(alert, actors);
  if (type === "client_ip") return actors.filter((actor) => actor.clientIps.includes(value));
  if (type === "client_net")
    return actors.filter((actor) => actor.clientIps.some((ip) => inNetwork(ip, value)));
  if (type === "sasl_user") return actors.filter((actor) => actor.saslUsers.includes(value));
  return actorsRelatedTo(alert, actors);
}

function actorsRelatedTo(alert: Alert, actors: readonly Actor[]): Actor[] {
  const ips = new Set(alert.related.clientIps);
  const users = new Set(alert.related.saslUsers);
  return actors.filter(
    (actor) => actor.clientIps.some((ip) => ips.has(ip)) || actor.saslUsers.some((user) => users.has(user)),
  );
}

/** `ip` inside `network` (`a.b.c.0/24`, `2001:db8::/64`); a bare address matches itself only. */
export function inNetwork(ip: string, network: string): boolean {
  const [base = "", prefixText] = network.split("/");
  if (prefixText === undefined) return ip === base;
  const bits = (address: string): string | undefined => {
    if (address.includes(".")) {
      const parts = address.split(".").map(Number);
      return parts.length === 4 ? parts.map((part) => part.toString(2).padStart(8, "0")).join("") : undefined;
    }
    const [head = "", tail = ""] = address.split("::");
    const groups = (text: string) => (text === "" ? [] : text.split(":"));
    const missing = 8 - groups(head).length - groups(tail).length;
    const all = [...groups(head), ...Array(address.includes("::") ? missing : 0).fill("0"), ...groups(tail)];
    return all.map((group) => Number.parseInt(group, 16).toString(2).padStart(16, "0")).join("");
  };
  const [ours, theirs] = [bits(ip), bits(base)];
  const prefix = Number(prefixText);
  return ours !== undefined && theirs !== undefined && ours.length === theirs.length
    ? ours.slice(0, prefix) === theirs.slice(0, prefix)
    : false;
}
