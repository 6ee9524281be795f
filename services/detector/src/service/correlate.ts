/**
 * DETECTOR_STAGE=correlate: the partitioned detector's first stage. Replica i of N owns the event
 * partitions p with p % N == i (by mail host, as the receiver publishes them): per partition a
 * durable consumer of `postwatch.events.batch.<p>` and a CorrelationStage. Each batch's facts go
 * out in batches per fact partition (FactRouter) on `postwatch.facts.<q>`, and the events' batch is
 * acked only once they are all stored. Message IDs are derived from the input, so a batch redone
 * after a crash is stored once. Postfix's metrics count this replica's partitions, so they sum
 * over replicas.
 */
import { createHash } from "node:crypto";
import type { JsMsg } from "@nats-io/jetstream";
import { decodeEventMessage } from "../../../../shared/src/contracts/event-batch.js";
import { eventTimeMs } from "../../../../shared/src/contracts/event-time.js";
import type { PostfixEvent } from "../../../../shared/src/contracts/events.js";
import { encodeFactBatch, type Fact } from "../../../../shared/src/contracts/facts.js";
import {
  correlatorDurable,
  EVENTS_STREAM,
  eventBatchSubject,
  factSubject,
} from "../../../../shared/src/contracts/subjects.js";
import { storedAtMs } from "../../../../shared/src/runtime/consumer.js";
import { correlationOptionsOf, ownedPartitions, replicaSlotOf } from "../config.js";
import { TICK_MS } from "../pipeline.js";
import { createPostfixMetrics, observePostfixEvent } from "../postfix-metrics.js";
import { CorrelationStage } from "../stages/correlation-stage.js";
import { FactRouter } from "../stages/fact-router.js";
import { combinedStats } from "../stages/stats.js";
import { ackFloorOf, replayStored } from "../warmup.js";
import type { StageDeps, StageService } from "./runtime.js";

/** Facts per published batch, and characters: well inside NATS's 1 MiB payload limit. */
const MAX_BATCH_FACTS = 256;
const MAX_BATCH_CHARS = 512 * 1024;

export const runCorrelation: StageService = async (deps) => {
  const { config, rules, registry, runtime, metrics, now } = deps;
  const router = new FactRouter(rules, config.FACT_PARTITIONS);
  const owned = ownedPartitions(replicaSlotOf(config), config.EVENT_PARTITIONS);
  metrics.partitionsOwned.labels("event").set(owned.length);
  const postfixMetrics = createPostfixMetrics(registry, { hosts: config.DETECTOR_METRICS_HOSTS });
  const observe = (events: readonly PostfixEvent[]) => {
    for (const event of events) observePostfixEvent(postfixMetrics, event);
  };
  const stages = new Map(owned.map((p) => [p, new CorrelationStage(correlationOptionsOf(config))]));

  /** Publishes facts in batches per fact partition, each with message ID `<origin>.<q>.<n>`; resolves once all are stored. */
  const publishFacts = async (facts: readonly Fact[], origin: string) => {
    const byPartition = new Map<number, string[]>();
    for (const fact of facts) {
      const partitions = router.partitionsOf(fact.event);
      if (partitions.length === 0) continue;
      const text = JSON.stringify(fact);
      for (const q of partitions) {
        const texts = byPartition.get(q) ?? [];
        texts.push(text);
        byPartition.set(q, texts);
      }
    }
    const published: Promise<void>[] = [];
    for (const [q, texts] of byPartition)
      batches(texts).forEach((batch, n) => {
        published.push(runtime.publish(factSubject(q), encodeFactBatch(batch), `${origin}.${q}.${n}`));
        metrics.factsPublished.inc(batch.length);
      });
    await Promise.all(published);
  };

  for (const [p, stage] of stages) await warmUpPartition(deps, p, stage);
  for (const [p, stage] of stages)
    await runtime.consume(
      {
        stream: EVENTS_STREAM,
        durable: correlatorDurable(p),
        consumers: owned.length,
        filterSubject: eventBatchSubject(p),
        decode: decodeEventMessage,
        outcomes: metrics.events,
      },
      async (items, message: JsMsg) => {
        const facts: Fact[] = [];
        const wallMs = now();
        const seenMs = Math.min(storedAtMs(message), wallMs);
        for (const { event } of items)
          observe(stage.processInto(event, seenMs, wallMs, eventTimeMs(event.ts), facts));
        // The events' stream sequence names their facts: redone after a crash, they are stored once.
        await publishFacts(facts, `${p}.${message.info.streamSequence}`);
      },
    );
  runtime.every(TICK_MS, async () => {
    for (const [p, stage] of stages) {
      const swept = stage.tick(now());
      if (swept === undefined) continue;
      observe(swept.events);
      if (swept.facts.length === 0) continue;
      // Swept messages have no input message to name them: their content does, within the duplicate window.
      const digest = createHash("sha1");
      for (const event of swept.events) digest.update(JSON.stringify(event));
      await publishFacts(swept.facts, `${p}.sweep.${digest.digest("hex")}`);
    }
  });
  return () =>
    combinedStats(
      [...stages.values()].map((stage) => stage.stats()),
      [],
    );
};

/** Facts in batches of at most MAX_BATCH_FACTS facts and about MAX_BATCH_CHARS characters. */
function batches(texts: readonly string[]): string[][] {
  const out: string[][] = [];
  let batch: string[] = [];
  let chars = 0;
  for (const text of texts) {
    if (batch.length > 0 && (batch.length >= MAX_BATCH_FACTS || chars + text.length > MAX_BATCH_CHARS)) {
      out.push(batch);
      batch = [];
      chars = 0;
    }
    batch.push(text);
    chars += text.length;
  }
  if (batch.length > 0) out.push(batch);
  return out;
}

/**
 * The partition's events from the windows' start up to its consumer's ack floor, correlated again
 * so sessions and open messages span the restart; their facts were stored before, and are dropped.
 */
async function warmUpPartition(
  { connection, logger, now, warmupSeconds }: StageDeps,
  p: number,
  stage: CorrelationStage,
) {
  const ackFloor = await ackFloorOf(connection, EVENTS_STREAM, correlatorDurable(p));
  if (ackFloor === 0) return;
  const fromMs = now() - warmupSeconds * 1000;
  let events = 0;
  const discarded: Fact[] = [];
  await replayStored(
    connection,
    { stream: EVENTS_STREAM, filterSubject: eventBatchSubject(p), ackFloor, fromMs },
    {
      tick: (storedMs) => stage.tick(storedMs),
      take: (data, storedMs) => {
        for (const decoded of decodeEventMessage(data))
          if ("event" in decoded) {
            stage.processInto(decoded.event, storedMs, storedMs, eventTimeMs(decoded.event.ts), discarded);
            events++;
          }
        discarded.length = 0;
      },
    },
  );
  logger.info(
    { partition: p, events, ackFloor, since: new Date(fromMs).toISOString() },
    "correlation state rebuilt from the event stream",
  );
}
