// Bounded, time-windowed state per key (source IP, account…): entries older than the window
// are dropped as time moves on, each key keeps at most `perKey` entries, and at most `keys`
// keys are kept (the least recently seen go first). Time is event time.

export class KeyedWindows<T> {
  /** Per key, entry times and items in parallel, oldest first. */
  private readonly map = new Map<string, { times: number[]; items: T[] }>();

  constructor(
    private readonly spanMs: number,
    private readonly keys: number,
    private readonly perKey: number,
  ) {}

  /**
   * Adds an item for `key` at `time`; returns the key's items within the window ending at `time`,
   * oldest first. The list is the window itself, not a copy: read it before the next `add`.
   */
  add(key: string, time: number, item: T): readonly T[] {
    let entry = this.map.get(key);
    if (entry) this.map.delete(key);
    else {
      entry = { times: [], items: [] };
      if (this.map.size >= this.keys) {
        const oldest = this.map.keys().next().value;
        if (oldest !== undefined) this.map.delete(oldest);
      }
    }
    this.map.set(key, entry);
    const { times, items } = entry;
    times.push(time);
    items.push(item);
    // Rows come in time order; drop what the window has left behind, and what exceeds perKey.
    let drop = 0;
    while (drop < times.length && (times[drop] as number) < time - this.spanMs) drop++;
    drop = Math.max(drop, times.length - this.perKey);
    if (drop > 0) {
      times.splice(0, drop);
      items.splice(0, drop);
    }
    return items;
  }

  /** Forgets a key, e.g. after it raised an alert. */
  clear(key: string): void {
    this.map.delete(key);
  }

  get size(): number {
    let n = 0;
    for (const entry of this.map.values()) n += entry.items.length;
    return n;
  }
}

/** Remembers keys for a while, to raise one alert per key and window rather than one per row. */
export class Cooldown {
  private readonly until = new Map<string, number>();

  constructor(
    private readonly spanMs: number,
    private readonly keys = 100_000,
  ) {}

  /** True (and starts the cooldown) when `key` is not cooling down at `time`. */
  take(key: string, time: number): boolean {
    const until = this.until.get(key);
    if (until !== undefined && time < until) return false;
    this.until.delete(key);
    if (this.until.size >= this.keys) {
      const oldest = this.until.keys().next().value;
      if (oldest !== undefined) this.until.delete(oldest);
    }
    this.until.set(key, time + this.spanMs);
    return true;
  }

  get size(): number {
    return this.until.size;
  }
}

export function unique(values: readonly string[]): string[] {
  return [...new Set(values.filter((v) => v !== ''))];
}

/** The labels of items with distinct keys, in first-seen order. */
export function distinctBy<T>(
  items: readonly T[],
  key: (item: T) => string,
  label: (item: T) => string,
): string[] {
  const byKey = new Map<string, string>();
  for (const item of items) {
    const k = key(item);
    if (!byKey.has(k)) byKey.set(k, label(item));
  }
  return [...byKey.values()];
}

/** Sets `key` as the most recent entry of `map`, dropping the least recent beyond `cap`. */
export function setRecent<K, V>(map: Map<K, V>, key: K, value: V, cap: number): void {
  map.delete(key);
  if (map.size >= cap) {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }
  map.set(key, value);
}
