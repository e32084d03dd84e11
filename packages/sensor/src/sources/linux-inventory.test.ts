import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkRow } from '@palisade/schema';
import { describe, expect, it } from 'vitest';
import type { Source, SourceChunk, SourceContext, SourceHealthIssue } from '../source.ts';
import {
  type InventoryCheckpoint,
  inventoryHealthCodes,
  type LinuxPaths,
  type LinuxProbe,
  linuxHostSource,
  linuxSoftwareSource,
} from './linux-inventory.ts';

const fixtures = join(import.meta.dirname, '../../fixtures/linux-inventory');
const paths: LinuxPaths = {
  osRelease: ['/missing/os-release', join(fixtures, 'os-release')],
  dpkgStatus: join(fixtures, 'dpkg/status'),
  resolvConf: join(fixtures, 'resolv.conf'),
  dmiVendor: '/missing/sys_vendor',
  dmiProduct: '/missing/product_name',
};

/** A probe over the fixture files; `files` overrides or removes (undefined) some of them. */
function fixtureProbe(
  files: Record<string, string | undefined> = {},
  commands: Record<string, string> = {},
): LinuxProbe {
  const outputs: Record<string, string> = {
    'ip -j addr show': readFileSync(join(fixtures, 'ip-addr.json'), 'utf8'),
    'ip -j route show default': readFileSync(join(fixtures, 'ip-route.json'), 'utf8'),
    'ip -j -6 route show default': readFileSync(join(fixtures, 'ip-route6.json'), 'utf8'),
    ...commands,
  };
  return {
    readFile: async (path) => {
      if (Object.hasOwn(files, path)) return files[path];
      try {
        return readFileSync(path, 'utf8');
      } catch {
        return undefined;
      }
    },
    run: async (file, args) => outputs[[file, ...args].join(' ')],
    hostname: () => 'lab',
    uname: () => ({ release: '6.1.0-18-amd64', version: '#1 SMP', machine: 'x86_64' }),
    networkInterfaces: () => ({}),
  };
}

type Make = (probe: LinuxProbe) => Source<InventoryCheckpoint>;

/**
 * Runs a source for `passes` snapshots, then stops it: each snapshot first looks for the (missing)
 * first os-release candidate, and the pass after the last is stopped there.
 */
async function collect(
  make: Make,
  probe: LinuxProbe,
  from: InventoryCheckpoint | undefined,
  passes = 1,
): Promise<{ chunks: SourceChunk<InventoryCheckpoint>[]; health: SourceHealthIssue[]; cleared: string[] }> {
  const controller = new AbortController();
  let taken = 0;
  const counted: LinuxProbe = {
    ...probe,
    readFile: (path) => {
      if (path === paths.osRelease[0] && ++taken > passes) controller.abort();
      return probe.readFile(path);
    },
  };
  const health: SourceHealthIssue[] = [];
  const cleared: string[] = [];
  const context: SourceContext = {
    signal: controller.signal,
    deviceName: 'lab',
    health: (issue) => health.push(issue),
    clearHealth: (code) => cleared.push(code),
  };
  const chunks: SourceChunk<InventoryCheckpoint>[] = [];
  for await (const chunk of make(counted).run(from, context)) chunks.push(chunk);
  return { chunks, health, cleared };
}

const host: Make = (probe) => linuxHostSource({ probe, paths, intervalMs: 0, now, clientVersion: '0.1.0' });
const software: Make = (probe) => linuxSoftwareSource({ probe, paths, intervalMs: 0, now });

const now = () => new Date('2026-01-02T03:04:05.000Z');

describe('linuxHostSource', () => {
  it('hands over DeviceInfo and DeviceNetworkInfo once, stamped, with the digest as checkpoint', async () => {
    const { chunks, health } = await collect(host, fixtureProbe(), undefined, 3);
    expect(chunks).toHaveLength(1);
    const rows = chunks[0]?.rows ?? [];
    expect(rows.map((r) => r.table)).toEqual(['DeviceInfo', ...Array(5).fill('DeviceNetworkInfo')]);
    expect(rows.every((r) => r.values.Timestamp === '2026-01-02T03:04:05.000Z')).toBe(true);
    for (const row of rows) expect(checkRow(row)).toEqual([]);
    expect(chunks[0]?.checkpoint.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(health).toEqual([]);

    // a restart on an unchanged host sends nothing
    const again = await collect(host, fixtureProbe(), chunks[0]?.checkpoint, 2);
    expect(again.chunks).toEqual([]);
  });

  it('sends the snapshot again when the host changed', async () => {
    const first = await collect(host, fixtureProbe(), undefined);
    const changed = fixtureProbe({ [join(fixtures, 'resolv.conf')]: 'nameserver 192.0.2.53\n' });
    const after = await collect(host, changed, first.chunks[0]?.checkpoint);
    expect(after.chunks).toHaveLength(1);
    expect(after.chunks[0]?.checkpoint.digest).not.toBe(first.chunks[0]?.checkpoint.digest);
  });

  it('reports an unreadable os-release and still sends what it knows', async () => {
    const probe = fixtureProbe({ [join(fixtures, 'os-release')]: undefined });
    const { chunks, health } = await collect(host, probe, undefined);
    expect(new Set(health.map((h) => h.code))).toEqual(new Set([inventoryHealthCodes.osRelease]));
    expect(chunks[0]?.rows[0]?.values.OSPlatform).toBe('Linux');
    expect(chunks[0]?.rows[0]?.values.OSDistribution).toBeUndefined();
  });
});

describe('linuxSoftwareSource', () => {
  it('sends the dpkg packages, and nothing after a restart with the same digest', async () => {
    const { chunks, cleared } = await collect(software, fixtureProbe(), undefined);
    expect(chunks[0]?.rows.map((r) => r.values.SoftwareName)).toEqual([
      'base-files',
      'libexample1',
      'openssh-client',
      'pinned-tool',
    ]);
    expect(chunks[0]?.rows[0]?.values).toMatchObject({ OSVersion: '12', OSArchitecture: '64-bit' });
    expect(cleared).toContain(inventoryHealthCodes.noPackages);
    expect((await collect(software, fixtureProbe(), chunks[0]?.checkpoint)).chunks).toEqual([]);
  });

  it('reads rpm hosts and reports entries it skipped', async () => {
    const probe = fixtureProbe(
      { [join(fixtures, 'dpkg/status')]: undefined },
      {
        'rpm -qa --queryformat %{NAME}\\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\\t%{ARCH}\\t%{VENDOR}\\n':
          readFileSync(join(fixtures, 'rpm-qa.txt'), 'utf8'),
      },
    );
    const { chunks, health } = await collect(software, probe, undefined);
    expect(
      chunks[0]?.rows.map(
        (r) => `${r.values.SoftwareVendor} ${r.values.SoftwareName} ${r.values.SoftwareVersion}`,
      ),
    ).toEqual([
      'lab_linux bash 5.1.8-9.el9',
      'debian gpg-pubkey fd431d51-4ae0493b',
      'lab_linux openssl-libs 1:3.0.7-27.el9',
      'lab_linux tzdata 2024a-1.el9',
    ]);
    expect(health[0]).toMatchObject({ code: inventoryHealthCodes.packageProblems, details: { count: 1 } });
    expect(health[0]?.message).toContain('rpm output line 5');
  });

  it('reports a host with no package database and sends nothing', async () => {
    const probe = fixtureProbe({ [join(fixtures, 'dpkg/status')]: undefined });
    const { chunks, health } = await collect(software, probe, undefined);
    expect(chunks).toEqual([]);
    expect(health.map((h) => h.code)).toContain(inventoryHealthCodes.noPackages);
  });

  it('splits a large snapshot into chunks, only the last carrying the new digest', async () => {
    const stanzas = Array.from(
      { length: 2500 },
      (_, i) => `Package: p${String(i).padStart(4, '0')}\nStatus: install ok installed\nVersion: 1.${i}\n`,
    ).join('\n');
    const probe = fixtureProbe({ [join(fixtures, 'dpkg/status')]: stanzas });
    const { chunks } = await collect(software, probe, { digest: 'old' });
    expect(chunks.map((c) => c.rows.length)).toEqual([1000, 1000, 500]);
    expect(chunks.map((c) => c.checkpoint.digest === 'old')).toEqual([true, true, false]);
  });
});
