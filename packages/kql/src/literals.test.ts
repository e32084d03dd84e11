import { describe, expect, it } from 'vitest';
import { datetimeMicros, longValue, realValue, timespanMicros } from './literals.ts';

describe('literal text', () => {
  it('reads timespans in units and clock form', () => {
    expect(timespanMicros('1h')).toBe(3_600_000_000n);
    expect(timespanMicros('1.5d')).toBe(129_600_000_000n);
    expect(timespanMicros('100ms')).toBe(100_000n);
    expect(timespanMicros('time(1.02:03:04)')).toBe(93_784_000_000n);
    expect(timespanMicros('timespan(null)')).toBeNull();
    expect(timespanMicros('5 parsecs')).toBeUndefined();
  });

  it('reads datetimes as UTC unless an offset is given', () => {
    expect(datetimeMicros('datetime(2024-05-01)')).toBe(1_714_521_600_000_000n);
    expect(datetimeMicros('datetime(2024-05-01 10:00:00.1234567)')).toBe(1_714_557_600_123_456n);
    expect(datetimeMicros('2024-05-01T12:00:00+02:00')).toBe(1_714_557_600_000_000n);
    expect(datetimeMicros('datetime(null)')).toBeNull();
  });

  it('reads longs (decimal and hex) and reals', () => {
    expect(longValue('0x10')).toBe(16n);
    expect(longValue('long(-5)')).toBe(-5n);
    expect(realValue('1e3')).toBe(1000);
    expect(realValue('real(null)')).toBeNull();
  });
});
