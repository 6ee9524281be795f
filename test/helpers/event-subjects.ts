/**
 * Where a test publishes events of its own: on the partition subject the receiver would use for
 * their mail host, with the default EVENT_PARTITIONS.
 */
import { eventPartition } from "../../shared/src/contracts/partitions.js";
import { eventBatchSubject } from "../../shared/src/contracts/subjects.js";
import { DEFAULT_EVENT_PARTITIONS } from "../../shared/src/runtime/config.js";

export const eventSubjectOf = (host: string): string =>
  eventBatchSubject(eventPartition(host, DEFAULT_EVENT_PARTITIONS));
