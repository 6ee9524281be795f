/**
 * NATS subject and stream layout, in one place. Subjects carry only bounded tokens (event kind,
 * rule id): never an IP, address or user name.
 */
import type { EventKind } from "./events.js";

export const EVENTS_STREAM = "POSTWATCH_EVENTS";
export const ALERTS_STREAM = "POSTWATCH_ALERTS";

/** `postwatch.events.<kind>` — one subject per event kind, so consumers can filter by kind. */
export const EVENTS_SUBJECT_PREFIX = "postwatch.events";
/** `postwatch.alerts.<rule>` — one subject per rule id. */
export const ALERTS_SUBJECT_PREFIX = "postwatch.alerts";

export const eventSubject = (kind: EventKind): string => `${EVENTS_SUBJECT_PREFIX}.${kind}`;
export const alertSubject = (rule: string): string => `${ALERTS_SUBJECT_PREFIX}.${rule}`;
export const EVENTS_WILDCARD = `${EVENTS_SUBJECT_PREFIX}.>`;
export const ALERTS_WILDCARD = `${ALERTS_SUBJECT_PREFIX}.>`;

export const DETECTOR_DURABLE = "postwatch-detector";
/** The alerter reads the alert stream once per destination, each at its own pace. */
export const alerterDurable = (destination: string): string => `postwatch-alerter-${destination}`;
/** The one consumer the alerter had before destinations had their own; removed at start. */
export const LEGACY_ALERTER_DURABLE = "postwatch-alerter";
