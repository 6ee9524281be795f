/**
 * A Prometheus counter for the per-line and per-event hot paths: each label combination's child
 * counts in a plain number, handed to prom-client when the registry collects (a scrape). prom-client's
 * own inc() hashes and checks the label values on every call, a cost paid per line otherwise.
 * Exposition, names, help and types are prom-client's, unchanged.
 */
import { Counter, type CounterConfiguration } from "prom-client";

export interface TalliedChild {
  inc(by?: number): void;
}

export class TalliedCounter<L extends string = string> {
  readonly counter: Counter<L>;
  private readonly tallies: { values: string[]; count: number }[] = [];

  constructor(configuration: Omit<CounterConfiguration<L>, "collect">) {
    const tallies = this.tallies;
    const counter: Counter<L> = new Counter<L>({
      ...configuration,
      collect() {
        for (const tally of tallies) {
          if (tally.count === 0) continue;
          counter.labels(...tally.values).inc(tally.count);
          tally.count = 0;
        }
      },
    });
    this.counter = counter;
  }

  /** A child for these label values; keep it: each call makes a new one. */
  labels(...values: string[]): TalliedChild {
    const tally = { values, count: 0 };
    this.tallies.push(tally);
    return {
      inc(by = 1) {
        tally.count += by;
      },
    };
  }
}
