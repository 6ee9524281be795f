/**
 * A Prometheus histogram for the per-event hot path, as TalliedCounter is a counter: each label
 * combination's child counts its buckets in plain numbers. prom-client's own observe() converts,
 * checks and hashes the label values on every call; for the detector's delivery delays (four per
 * delivery) that was half the cost of Postfix's metrics per event.
 *
 * It is a metric of prom-client's registry (`name`, `help`, `type` and `getForPromString`, what the
 * registry's text exposition reads from its own metrics), and hands it the same values a
 * prom-client Histogram would: the exposition is the registry's, unchanged
 * (tallied-histogram.test.ts compares the two, byte for byte). Only the text exposition is served
 * (/metrics); the registry's JSON form is not.
 */
import type { Registry } from "prom-client";

export interface TalliedHistogramChild {
  observe(value: number): void;
}

export interface TalliedHistogramConfiguration<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  /** Upper bounds, ascending; `+Inf` is implied. */
  buckets: readonly number[];
  registers: readonly Registry[];
}

interface Tally {
  readonly labels: Record<string, string>;
  /** Observations per bucket, not cumulative; the last is `+Inf`'s own. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/** One exposition line's worth, in the shape prom-client's registry formats. */
interface ValuePair {
  labels: Record<string, string | number>;
  sharedLabels: Record<string, string>;
  value: number;
  metricName: string;
}

export class TalliedHistogram<L extends string = string> {
  readonly name: string;
  readonly help: string;
  readonly type = "histogram";
  readonly aggregator = "sum";
  private readonly labelNames: readonly L[];
  private readonly upperBounds: readonly number[];
  private tallies: Tally[] = [];

  constructor(configuration: TalliedHistogramConfiguration<L>) {
    this.name = configuration.name;
    this.help = configuration.help;
    this.labelNames = configuration.labelNames;
    this.upperBounds = configuration.buckets;
    for (const registry of configuration.registers) registry.registerMetric(this as never);
  }

  /** A child for these label values, in `labelNames` order; keep it: each call makes a new series. */
  labels(...values: string[]): TalliedHistogramChild {
    if (values.length !== this.labelNames.length)
      throw new Error(`${this.name}: ${values.length} label values for ${this.labelNames.length} labels`);
    const labels = Object.fromEntries(this.labelNames.map((name, i) => [name, values[i] as string]));
    const tally: Tally = { labels, counts: new Float64Array(this.upperBounds.length + 1), sum: 0, count: 0 };
    this.tallies.push(tally);
    const upperBounds = this.upperBounds;
    return {
      observe(value: number) {
        // As prom-client's: a value that is not a number would make every later sum NaN.
        if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
        let bucket = 0;
        while (bucket < upperBounds.length && value > (upperBounds[bucket] as number)) bucket++;
        tally.counts[bucket] = (tally.counts[bucket] as number) + 1;
        tally.sum += value;
        tally.count++;
      },
    };
  }

  /** What the registry formats: each series' labels apart from `le`, as prom-client's Histogram gives them. */
  getForPromString() {
    const values: ValuePair[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const { labels, counts, sum, count } of this.tallies) {
      let cumulative = 0;
      this.upperBounds.forEach((le, i) => {
        cumulative += counts[i] as number;
        values.push({ labels: { le }, sharedLabels: labels, value: cumulative, metricName: bucketName });
      });
      values.push(
        { labels: { le: "+Inf" }, sharedLabels: labels, value: count, metricName: bucketName },
        { labels: {}, sharedLabels: labels, value: sum, metricName: `${this.name}_sum` },
        { labels: {}, sharedLabels: labels, value: count, metricName: `${this.name}_count` },
      );
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}
