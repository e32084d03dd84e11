import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { passwdFileResolver, passwdResolver } from './linux-passwd.ts';

const fixture = join(import.meta.dirname, '../../fixtures/linux-auditd/passwd');

describe('passwdResolver', () => {
  it('names ids and skips comments and broken lines', () => {
    const resolve = passwdResolver(readFileSync(fixture, 'utf8'));
    expect([0, 1, 1001, 4242].map(resolve)).toEqual(['root', 'daemon', 'analyst', undefined]);
  });

  it('reads a file once, and resolves nothing when the file is missing', () => {
    expect(passwdFileResolver(fixture)(1001)).toBe('analyst');
    expect(passwdFileResolver(join(fixture, 'missing'))(0)).toBeUndefined();
  });
});
