import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeliveryBuffer } from './delivery-buffer.ts';

const chunk = (n: number, checkpoint: number) => ({
  rows: [],
  events: Array.from({ length: n }, (_, i) => ({ record: checkpoint - n + i + 1 })),
  checkpoint,
});

describe('DeliveryBuffer', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'palisade-buffer-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps batches in order across a reopen, and resumes each source after its last buffered chunk', async () => {
    const first = await DeliveryBuffer.open(dir, { capacityBytes: 1_000_000 });
    const a1 = await first.put('a', chunk(2, 2));
    await first.put('b', chunk(1, 10));
    await first.put('a', chunk(3, 5));
    expect(first.resumePoint('a')).toBe(5);
    expect(first.resumePoint('b')).toBe(10);
    expect(first.resumePoint('c')).toBeUndefined();

    const reopened = await DeliveryBuffer.open(dir, { capacityBytes: 1_000_000 });
    expect(reopened.stats().batches).toBe(3);
    expect(reopened.resumePoint('a')).toBe(5);
    const [oldest] = await reopened.oldestBatches(1, 100);
    expect(oldest?.batchId).toBe(a1.batchId);
    expect(oldest?.records).toBe(2);
    // The batch is kept as the server takes it.
    expect(JSON.parse(oldest?.body ?? '')).toEqual({
      batchId: a1.batchId,
      rows: [],
      events: [{ record: 1 }, { record: 2 }],
    });
    // New batches go after the ones found on disk.
    const next = await reopened.put('b', chunk(1, 11));
    expect(next.seq).toBe(4);
  });

  it('moves a source checkpoint only on acknowledgement, and keeps it once the batch is gone', async () => {
    const buffer = await DeliveryBuffer.open(dir, { capacityBytes: 1_000_000 });
    const one = await buffer.put('a', chunk(2, 2));
    const two = await buffer.put('a', chunk(2, 4));
    await buffer.acknowledge(one.seq);
    await buffer.acknowledge(two.seq);
    expect(buffer.stats().batches).toBe(0);
    expect(await readdir(join(dir, 'batches'))).toEqual([]);
    const reopened = await DeliveryBuffer.open(dir, { capacityBytes: 1_000_000 });
    expect(reopened.resumePoint('a')).toBe(4);
    expect(await reopened.oldestBatches(8, 100)).toEqual([]);
  });

  it('forgets a batch file a crash left half-written (temporary name)', async () => {
    const buffer = await DeliveryBuffer.open(dir, { capacityBytes: 1_000_000 });
    await buffer.put('a', chunk(1, 1));
    await writeFile(join(dir, 'batches', '.000000000002.batch.json.999.tmp'), '{"seq":2,"trunc');
    const reopened = await DeliveryBuffer.open(dir, { capacityBytes: 1_000_000 });
    expect(reopened.stats().batches).toBe(1);
    expect(await readdir(join(dir, 'batches'))).toEqual(['000000000001.batch.json']);
  });

  it('sets a refused batch aside and moves its source past it', async () => {
    const buffer = await DeliveryBuffer.open(dir, { capacityBytes: 1_000_000 });
    const bad = await buffer.put('a', chunk(1, 1));
    const path = await buffer.refuse(bad.seq);
    expect((await stat(path)).isFile()).toBe(true);
    expect(buffer.stats().batches).toBe(0);
    expect((await DeliveryBuffer.open(dir, { capacityBytes: 1_000_000 })).resumePoint('a')).toBe(1);
  });

  it('is full at its capacity and wakes a waiting source when a batch is acknowledged', async () => {
    const buffer = await DeliveryBuffer.open(dir, { capacityBytes: 200 });
    const big = await buffer.put('a', chunk(20, 20));
    expect(buffer.full).toBe(true);
    expect(buffer.stats().bytes).toBe((await stat(join(dir, 'batches', '000000000001.batch.json'))).size);
    let woke = false;
    const waiting = buffer.whenRoom(new AbortController().signal).then(() => {
      woke = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(woke).toBe(false);
    await buffer.acknowledge(big.seq);
    await waiting;
    expect(woke).toBe(true);
    expect(buffer.full).toBe(false);
  });

  it('writes batch files readable by the sensor account only', async () => {
    const buffer = await DeliveryBuffer.open(dir, { capacityBytes: 1_000_000 });
    await buffer.put('a', chunk(1, 1));
    const mode = (await stat(join(dir, 'batches', '000000000001.batch.json'))).mode & 0o777;
    expect(mode).toBe(0o600);
  });
});
