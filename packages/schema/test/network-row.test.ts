// The time text of rows made from packets, against Date's own formatting, in any order of calls
// (the formatter remembers the last second it formatted).
import { describe, expect, it } from 'vitest';
import { isoFromMicros } from '../src/normalise/network-row.ts';

const viaDate = (us: number) => {
  const ms = Math.floor(us / 1000);
  const micros = ((us % 1_000_000) + 1_000_000) % 1_000_000;
  return `${new Date(ms).toISOString().slice(0, 19)}.${String(micros).padStart(6, '0')}0Z`;
};

describe('isoFromMicros', () => {
  it('equals Date.toISOString with seven fractional digits, forwards, backwards and around 1970', () => {
    const times = [
      1_795_300_029_201_398, 1_795_300_029_999_999, 1_795_300_030_000_000, 1_795_300_029_000_001, 0, -1,
      -1_000_000, -1_500_000, 8_000_000_000_000_000,
    ];
    for (const us of [...times, ...times.reverse()]) expect(isoFromMicros(us)).toBe(viaDate(us));
    expect(isoFromMicros(1_795_300_029_201_398)).toBe('2026-11-21T22:27:09.2013980Z');
    expect(isoFromMicros(-1)).toBe('1969-12-31T23:59:59.9999990Z');
  });
});
