// The schedule of custom detection rules against Defender's documentation ("Create and manage
// custom detection rules", rule frequency): every hour over the past 4 hours, every 3 hours over
// 12, every 12 hours over 48, every 24 hours over 30 days; continuous is Palisade's every minute
// over the past hour of event time.
import { describe, expect, it } from 'vitest';
import { frequencyMs, lookbackMs, scheduledQuery } from './custom-detection-rule.ts';

const HOUR = 3_600_000;

describe('custom detection schedules', () => {
  it("run as often and look as far back as Defender's", () => {
    expect(frequencyMs).toEqual({
      continuous: 60_000,
      '1h': HOUR,
      '3h': 3 * HOUR,
      '12h': 12 * HOUR,
      '24h': 24 * HOUR,
    });
    expect(lookbackMs).toEqual({
      continuous: HOUR,
      '1h': 4 * HOUR,
      '3h': 12 * HOUR,
      '12h': 48 * HOUR,
      '24h': 720 * HOUR,
    });
  });

  it('limit the query to the lookback on a line of its own, after a trailing comment or semicolon', () => {
    expect(scheduledQuery('DeviceProcessEvents // recent', 'continuous')).toBe(
      'DeviceProcessEvents // recent\n| where Timestamp > ago(1h)',
    );
    expect(scheduledQuery('DeviceProcessEvents;\n', '24h')).toBe(
      'DeviceProcessEvents\n| where Timestamp > ago(720h)',
    );
  });
});
