// `palisade up` through the command: a first run needs a domain, creates the instance and prints
// the one-time password and access key once; the next run reopens it and prints neither; a bad
// --listen is a usage error. Each run stops when its signal aborts.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@palisade/server';
import { afterEach, describe, expect, it } from 'vitest';
import { run } from '../src/index.ts';
import { runUp } from '../src/up-command.ts';
import { memoryOutput } from './memory-output.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** Runs `palisade up` until it listens, then stops it; returns the exit code and the output. */
async function upOnce(flags: Record<string, string>, env: Record<string, string> = {}) {
  const out = memoryOutput();
  const stop = new AbortController();
  const code = await runUp([], { listen: '127.0.0.1:0', ...flags }, out, {
    signal: stop.signal,
    env,
    // No terminal to ask on: an empty answer, as when nobody types a domain.
    askDomain: async () => '',
    onListening: () => stop.abort(),
    log: silentLogger,
  });
  return { code, out };
}

describe('palisade up', () => {
  it('asks for a domain on the first run, creates the instance, then reopens it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'palisade-up-cli-'));
    dirs.push(dir);
    const data = join(dir, 'data');

    const noDomain = await upOnce({ data });
    expect(noDomain.code).toBe(2);
    expect(noDomain.out.stderr.join('\n')).toContain("give the directory's DNS domain with --domain");

    const first = await upOnce({ data, domain: 'Contoso.Local' });
    expect(first.code, first.out.stderr.join('\n')).toBe(0);
    expect(first.out.stdout).toMatch(/^Created the Palisade instance of contoso\.local in /);
    expect(first.out.stdout).toMatch(
      /one-time password: [\w-]{24} {3}\(shown this once; change it at the first sign-in\)/,
    );
    expect(first.out.stdout).toMatch(/sensor access key: pak_[\w-]{43}/);
    expect(first.out.stdout).toMatch(/Serving https:\/\/127\.0\.0\.1:\d+/);

    const again = await upOnce({ data }, { PALISADE_ADMIN_PASSWORD: 'ignored-after-creation-1' });
    expect(again.code).toBe(0);
    expect(again.out.stdout).toMatch(/^Opened the Palisade instance of contoso\.local/);
    expect(again.out.stdout).not.toContain('password');
    expect(again.out.stdout).not.toContain('pak_');

    const other = await upOnce({ data, domain: 'fabrikam.local' });
    expect(other.code).toBe(2);
    expect(other.out.stderr.join('\n')).toContain('holds the instance of contoso.local, not fabrikam.local');
  });

  it('refuses a bad --listen and a bad --domain as usage errors', async () => {
    const out = memoryOutput();
    expect(await run(['up', '--listen', 'everywhere', '--domain', 'localhost'], out)).toBe(2);
    expect(out.stderr).toEqual([
      'palisade up: --domain: expected a DNS domain such as contoso.local, found "localhost"',
      'palisade up: --listen: expected --listen HOST:PORT (e.g. 127.0.0.1:8443), found "everywhere"',
    ]);
  });
});
