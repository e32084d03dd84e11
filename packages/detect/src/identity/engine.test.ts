// isoMillis reads the normalisers' ISO times exactly as Date.parse does, and hands anything
// else to Date.parse.
import { describe, expect, it } from 'vitest';
import { isoMillis } from './engine.ts';

describe('isoMillis', () => {
  it.each([
    '2024-05-01T09:00:00Z',
    '2024-05-01T09:00:00.1Z',
    '2024-05-01T09:00:00.123Z',
    '2024-05-01T09:00:00.1234567Z',
    '2024-05-01T09:00:00.999999999Z',
    '1601-01-01T00:00:00.0000000Z',
    '2000-02-29T23:59:59.9990000Z',
    '2024-05-01T09:00:00+02:00',
    '2024-05-01 09:00:00Z',
    'not a time',
    '2024-13-01T09:00:00Z',
    '2024-02-30T00:00:00Z',
    '2024-01-32T00:00:00Z',
    '2024-01-01T24:00:00Z',
    '2024-01-01T23:60:00Z',
    '2024-0x-01T09:00:00.000Z',
  ])('%s', (text) => {
    // Date.parse is the reference; both truncate below a millisecond.
    expect(isoMillis(text)).toEqual(Date.parse(text));
  });
});
