/**
 * DETECTOR_STAGE=evaluate: the partitioned detector's second stage. Replica i of N owns the fact
 * partitions q with q % N == i: per partition a durable consumer of `postwatch.facts.<q>` and an
 * EvaluationStage owning the rule keys of q, whose alerts are published as under `all` (their
 * identity as message ID, so one re-derived after a restart is stored once). At start each
 * partition's state is rebuilt from its own facts (warmup.ts), nothing else.
 */
import type { Alert } from "../../../../shared/src/contracts/alerts.js";
import { decodeFactMessage } from "../../../../shared/src/contracts/facts.js";
import { evaluatorDurable, FACTS_STREAM, factSubject } from "../../../../shared/src/contracts/subjects.js";
import { ownedPartitions, replicaSlotOf } from "../config.js";
import { LOGIN_HISTORY_DEFAULTS } from "../engine/login-history.js";
import { TICK_MS } from "../pipeline.js";
import { EvaluationStage } from "../stages/evaluation-stage.js";
import { FactRouter } from "../stages/fact-router.js";
import { combinedStats } from "../stages/stats.js";
import { ackFloorOf, readStoredUpTo, replayStored } from "../warmup.js";
import type { StageDeps, StageService } from "./runtime.js";

export const runEvaluation: StageService = async (deps) => {
  const { config, rules, runtime, metrics, now } = deps;
  const router = new FactRouter(rules, config.FACT_PARTITIONS);
  const owned = ownedPartitions(replicaSlotOf(config), config.FACT_PARTITIONS);
  metrics.partitionsOwned.labels("fact").set(owned.length);
  const stages = new Map(
    owned.map((q) => [
      q,
      new EvaluationStage({
        rules,
        maxKeysPerRule: config.DETECTOR_MAX_KEYS_PER_RULE,
        ownsKey: router.ownership(q),
      }),
    ]),
  );
  for (const [q, stage] of stages) await warmUpPartition(deps, q, stage);
  for (const [q, stage] of stages)
    await runtime.consume(
      {
        stream: FACTS_STREAM,
        durable: evaluatorDurable(q),
        consumers: owned.length,
        filterSubject: factSubject(q),
        decode: decodeFactMessage,
        outcomes: metrics.facts,
      },
      async (items) => {
        const alerts: Alert[] = [];
        const wallMs = now();
        for (const { fact } of items) stage.processInto(fact, wallMs, alerts);
        await runtime.publishAlerts(alerts);
      },
    );
  runtime.every(TICK_MS, async () => {
    for (const stage of stages.values()) await runtime.publishAlerts(stage.tick(now()));
  });
  return () =>
    combinedStats(
      [],
      [...stages.values()].map((stage) => stage.stats()),
    );
};

/**
 * The partition's logins from as far back as the login history reaches, then its facts from the
 * windows' start up to its consumer's ack floor, driven on the times JetStream stored them, a tick
 * every TICK_MS of that time, as the stage ran live; the alerts it re-derives were stored before.
 */
async function warmUpPartition(
  { connection, logger, now, warmupSeconds }: StageDeps,
  q: number,
  stage: EvaluationStage,
) {
  const ackFloor = await ackFloorOf(connection, FACTS_STREAM, evaluatorDurable(q));
  if (ackFloor === 0) return;
  const fromMs = now() - warmupSeconds * 1000;
  const source = { stream: FACTS_STREAM, filterSubject: factSubject(q), ackFloor };
  let logins = 0;
  await readStoredUpTo(
    connection,
    { ...source, fromMs: now() - LOGIN_HISTORY_DEFAULTS.forgetAfterMs },
    (data, storedMs) => {
      if (storedMs >= fromMs) return false;
      for (const decoded of decodeFactMessage(data))
        if ("fact" in decoded && decoded.fact.event.kind === "client") {
          stage.learnLogin(decoded.fact.event);
          logins++;
        }
      return true;
    },
  );
  let facts = 0;
  const discarded: Alert[] = [];
  await replayStored(
    connection,
    { ...source, fromMs },
    {
      tick: (storedMs) => stage.tick(storedMs),
      take: (data, storedMs) => {
        for (const decoded of decodeFactMessage(data))
          if ("fact" in decoded) {
            stage.processInto(decoded.fact, storedMs, discarded);
            facts++;
          }
        discarded.length = 0;
      },
    },
  );
  logger.info(
    { partition: q, facts, logins, ackFloor, since: new Date(fromMs).toISOString() },
    "evaluation state rebuilt from the fact stream",
  );
}
