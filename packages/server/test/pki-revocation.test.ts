// The file-backed revocation list: serials in any spelling, durable across reopening, first
// revocation time kept, and a damaged file refused rather than read as empty.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PkiError } from '../src/pki/pki-error.ts';
import { FileRevocationStore, normalizeSerialNumber } from '../src/pki/revocation.ts';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'palisade-revocation-'));
  dirs.push(dir);
  return join(dir, 'revoked.json');
}

describe('revocation list', () => {
  it('normalises serial numbers to upper-case hex without leading zeros', () => {
    expect(normalizeSerialNumber('00:0a:1B:ff')).toBe('A1BFF');
    expect(normalizeSerialNumber('4e546c82269142508f300db14d33c0aa')).toBe(
      '4E546C82269142508F300DB14D33C0AA',
    );
    expect(normalizeSerialNumber('000')).toBe('0');
    expect(() => normalizeSerialNumber('xyz')).toThrow(PkiError);
    expect(() => normalizeSerialNumber('')).toThrow(PkiError);
  });

  it('keeps revocations across reopening, with the first revocation time', async () => {
    const path = await tempFile();
    const store = await FileRevocationStore.open(path);
    expect(store.isRevoked('4E546C82269142508F300DB14D33C0AA')).toBe(false);

    await Promise.all([
      store.revoke('4e546c82269142508f300db14d33c0aa', new Date('2026-03-01T10:00:00Z')),
      store.revoke('5A00000000000000000000000000000B', new Date('2026-03-01T10:00:01Z')),
    ]);
    await store.revoke('4E:54:6C:82:26:91:42:50:8F:30:0D:B1:4D:33:C0:AA', new Date('2026-04-01T00:00:00Z'));
    expect(store.isRevoked('4E546C82269142508F300DB14D33C0AA')).toBe(true);
    expect(store.isRevoked('004e546c82269142508f300db14d33c0aa')).toBe(true);

    const reopened = await FileRevocationStore.open(path);
    expect(reopened.isRevoked('5A00000000000000000000000000000B')).toBe(true);
    expect(reopened.isRevoked('6A00000000000000000000000000000B')).toBe(false);
    expect(reopened.list()).toEqual([
      { serialNumber: '4E546C82269142508F300DB14D33C0AA', revokedAt: '2026-03-01T10:00:00.000Z' },
      { serialNumber: '5A00000000000000000000000000000B', revokedAt: '2026-03-01T10:00:01.000Z' },
    ]);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ version: 1, revoked: reopened.list() });
  });

  it('refuses to open a damaged list rather than let revoked sensors back in', async () => {
    const path = await tempFile();
    for (const text of [
      '{',
      '[]',
      '{"version":2,"revoked":[]}',
      '{"version":1,"revoked":[{"serialNumber":"zz","revokedAt":"x"}]}',
    ]) {
      await writeFile(path, text);
      await expect(FileRevocationStore.open(path)).rejects.toMatchObject({
        code: 'pki/revocations-unreadable',
      });
    }
  });
});
