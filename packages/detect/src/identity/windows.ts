// Bounded, time-windowed state per key (source IP, account…): entries older than the window
// are dropped as time moves on, each key keeps at most `perKey` entries, and at most `keys`
// keys are kept (the least recently seen go first). Time is event time.

export class KeyedWindows<T> {
  private readonly map = new Map<string, { time: number; item: T }[]>();

  constructor(
    private readonly spanMs: number,
    private readonly keys: number,
    private readonly perKey: number,
  ) {}

  /** Adds an item for `key` at `time`; returns the key's items within the window ending at `time`. */
  add(key: string, time: number, item: T): T[] {
    let list = this.map.get(key);
    if (list) this.map.delete(key);
    else {
      list = [];
      if (this.map.size >= this.keys) {
        const oldest = this.map.keys().next().value;
        if (oldest !== undefined) this.map.delete(oldest);
      }
    }
    this.map.set(key, list);
    list.push({ time, item });
    // Rows come in time order; drop what the window has left behind.
    while (list.length > 0 && (list[0] as { time: number }).time < time - this.spanMs) list.shift();
    if (list.length > this.perKey) list.splice(0, list.length - this.perKey);
    return list.map((e) => e.item);
  }

  /** Forgets a key, e.g. after it raised an alert. */
  clear(key: string): void {
    this.map.delete(key);
  }

  get size(): number {
    let n = 0;
    for (const list of this.map.values()) n += list.length;
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
