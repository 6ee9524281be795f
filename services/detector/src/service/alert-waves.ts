/**
 * Alerts to publish, cut into waves whose publishes are awaited together: one round trip per wave,
 * not per alert, while the consumer waits. A wave never holds two alerts of one fingerprint (one
 * rule and key), so a key's alerts (firing, then resolved) are stored in the order they were
 * derived, however the publishes of a wave finish or are retried.
 */
export function alertWaves<A extends { fingerprint: string }>(alerts: readonly A[]): A[][] {
  const waves: A[][] = [];
  let wave: A[] = [];
  const fingerprints = new Set<string>();
  for (const alert of alerts) {
    if (fingerprints.has(alert.fingerprint)) {
      waves.push(wave);
      wave = [];
      fingerprints.clear();
    }
    fingerprints.add(alert.fingerprint);
    wave.push(alert);
  }
  if (wave.length > 0) waves.push(wave);
  return waves;
}
