/**
 * NATS subject and stream layout, in one place. Subjects carry only bounded tokens (a rule
 * id): never an IP, address or user name.
 */
export const EVENTS_STREAM = "POSTWATCH_EVENTS";
export const ALERTS_STREAM = "POSTWATCH_ALERTS";
export const DEAD_LETTERS_STREAM = "POSTWATCH_DEAD_LETTERS";
export const FACTS_STREAM = "POSTWATCH_FACTS";

/**
 * `postwatch.events.batch.<p>`: the receiver publishes batches of events (event-batch.ts), each
 * holding the events of one partition `p` (partitions.ts): a mail host's lines in one subject.
 */
export const EVENTS_SUBJECT_PREFIX = "postwatch.events";
export const eventBatchSubject = (partition: number): string => `${EVENTS_SUBJECT_PREFIX}.batch.${partition}`;
/**
 * `postwatch.facts.<q>`: the partitioned detector's correlation stage publishes batches of facts
 * (facts.ts) for fact partition `q`, which the evaluation stage owning `q` reads.
 */
export const FACTS_SUBJECT_PREFIX = "postwatch.facts";
export const factSubject = (partition: number): string => `${FACTS_SUBJECT_PREFIX}.${partition}`;
export const FACTS_WILDCARD = `${FACTS_SUBJECT_PREFIX}.>`;
/** `postwatch.alerts.<rule>` — one subject per rule id. */
export const ALERTS_SUBJECT_PREFIX = "postwatch.alerts";

export const alertSubject = (rule: string): string => `${ALERTS_SUBJECT_PREFIX}.${rule}`;
/** `postwatch.dead.<stream>` — messages a consumer of that stream set aside (see runtime/dead-letters.ts). */
export const deadLetterSubject = (stream: string): string => `postwatch.dead.${stream}`;
export const DEAD_LETTERS_WILDCARD = "postwatch.dead.>";
export const EVENTS_WILDCARD = `${EVENTS_SUBJECT_PREFIX}.>`;
export const ALERTS_WILDCARD = `${ALERTS_SUBJECT_PREFIX}.>`;

export const DETECTOR_DURABLE = "postwatch-detector";
/** The partitioned detector: one durable per event partition (correlation) and per fact partition (evaluation). */
export const correlatorDurable = (partition: number): string => `postwatch-correlator-${partition}`;
export const evaluatorDurable = (partition: number): string => `postwatch-evaluator-${partition}`;
/** The alerter reads the alert stream once per destination, each at its own pace. */
export const alerterDurable = (destination: string): string => `postwatch-alerter-${destination}`;
/** The one consumer the alerter had before destinations had their own; removed at start. */
export const LEGACY_ALERTER_DURABLE = "postwatch-alerter";
