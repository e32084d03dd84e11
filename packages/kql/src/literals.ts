// Kusto literal text to values: datetimes and timespans as microseconds, longs as bigints. The
// language service's own boxed values are used only where they are exact (timespan ticks).

const MICROS = { d: 86_400_000_000n, h: 3_600_000_000n, m: 60_000_000n, s: 1_000_000n } as const;

/** Timespan units as written after a number (`1d`, `30min`, `100ms`), in microseconds (fractional for ticks). */
const spanUnits: Readonly<Record<string, number>> = {
  d: 86_400_000_000,
  day: 86_400_000_000,
  days: 86_400_000_000,
  h: 3_600_000_000,
  hr: 3_600_000_000,
  hrs: 3_600_000_000,
  hour: 3_600_000_000,
  hours: 3_600_000_000,
  m: 60_000_000,
  min: 60_000_000,
  minute: 60_000_000,
  minutes: 60_000_000,
  s: 1_000_000,
  sec: 1_000_000,
  second: 1_000_000,
  seconds: 1_000_000,
  ms: 1000,
  milli: 1000,
  millis: 1000,
  millisecond: 1000,
  milliseconds: 1000,
  microsecond: 1,
  microseconds: 1,
  tick: 0.1,
  ticks: 0.1,
};

/** Microseconds of a timespan's text (`1h`, `1.5d`, `time(1.02:03:04)`, `02:00:00`), or undefined. */
export function timespanMicros(text: string): bigint | null | undefined {
  let t = text.trim();
  const wrapped = /^(?:time|timespan)\s*\((.*)\)$/is.exec(t);
  if (wrapped) t = (wrapped[1] ?? '').trim();
  if (t === 'null') return null;
  const sign = t.startsWith('-') ? -1n : 1n;
  if (t.startsWith('-') || t.startsWith('+')) t = t.slice(1);
  const unit = /^(\d+(?:\.\d+)?)\s*([a-z]+)$/i.exec(t);
  if (unit) {
    const per = spanUnits[(unit[2] ?? '').toLowerCase()];
    if (per === undefined) return undefined;
    return sign * BigInt(Math.round(Number(unit[1]) * per));
  }
  if (/^\d+(?:\.\d+)?$/.test(t)) return sign * BigInt(Math.round(Number(t) * 86_400_000_000));
  const clock = /^(?:(\d+)\.)?(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?$/.exec(t);
  if (!clock) return undefined;
  const [, days = '0', hours = '0', minutes = '0', seconds = '0', fraction = ''] = clock;
  const micros = BigInt(fraction.padEnd(7, '0').slice(0, 6) || '0');
  return (
    sign *
    (BigInt(days) * MICROS.d +
      BigInt(hours) * MICROS.h +
      BigInt(minutes) * MICROS.m +
      BigInt(seconds) * MICROS.s +
      micros)
  );
}

const isoLike =
  /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

/** Microseconds since the epoch of a datetime's text (`2024-01-02`, `2024-01-02T03:04:05.1234567Z`), UTC unless an offset is given. */
export function datetimeMicros(text: string): bigint | null | undefined {
  let t = text.trim();
  const wrapped = /^(?:datetime|date)\s*\((.*)\)$/is.exec(t);
  if (wrapped) t = (wrapped[1] ?? '').trim();
  t = t.replace(/^(['"])(.*)\1$/s, '$2');
  if (t === 'null') return null;
  const m = isoLike.exec(t);
  if (m) {
    const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', zone] = m;
    let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
    if (zone && zone.toUpperCase() !== 'Z') {
      const z = /([+-])(\d{2}):?(\d{2})/.exec(zone);
      if (z) ms -= (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3])) * 60_000;
    }
    return BigInt(ms) * 1000n + BigInt(fraction.padEnd(6, '0').slice(0, 6) || '0');
  }
  const parsed = Date.parse(/[zZ]|[+-]\d{2}:?\d{2}$|GMT|UTC/.test(t) ? t : `${t} UTC`);
  return Number.isNaN(parsed) ? undefined : BigInt(parsed) * 1000n;
}

/**
 * Microseconds since midnight of a datetime given as a time of day only (`8:00:00 AM`, `17:30`),
 * which Kusto reads as that time today; undefined for any other text.
 */
export function timeOfDayMicros(text: string): bigint | undefined {
  let t = text.trim();
  const wrapped = /^(?:datetime|date)\s*\((.*)\)$/is.exec(t);
  if (wrapped) t = (wrapped[1] ?? '').trim();
  t = t.replace(/^(['"])(.*)\1$/s, '$2').trim();
  const m = /^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?\s*([AP]M)?$/i.exec(t);
  if (!m) return undefined;
  const [, h = '0', mi = '0', s = '0', fraction = '', half] = m;
  let hours = Number(h);
  if (half) {
    if (hours < 1 || hours > 12) return undefined;
    hours = (hours % 12) + (half.toUpperCase() === 'PM' ? 12 : 0);
  }
  if (hours > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  const seconds = BigInt(hours * 3600 + Number(mi) * 60 + Number(s));
  return seconds * MICROS.s + BigInt(fraction.padEnd(6, '0').slice(0, 6) || '0');
}

/** A long literal's value (decimal or `0x` hex). */
export function longValue(text: string): bigint | null | undefined {
  let t = text.trim();
  const wrapped = /^(?:long|int)\s*\((.*)\)$/is.exec(t);
  if (wrapped) t = (wrapped[1] ?? '').trim();
  if (t === 'null') return null;
  try {
    return t.startsWith('-') ? -BigInt(t.slice(1)) : BigInt(t.replace(/^\+/, ''));
  } catch {
    return undefined;
  }
}

/** A real literal's value (`1.5`, `1e3`, `real(null)`, `real(nan)`). */
export function realValue(text: string): number | null | undefined {
  let t = text.trim();
  const wrapped = /^(?:real|double|decimal)\s*\((.*)\)$/is.exec(t);
  if (wrapped) t = (wrapped[1] ?? '').trim();
  if (t === 'null') return null;
  if (/^[+-]?inf$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  const n = Number(t);
  return Number.isNaN(n) ? undefined : n;
}
