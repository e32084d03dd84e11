// The inventory snapshots of the machine the tests run on, checked against independent tools:
// dpkg's own dpkg-query for installed packages (read from the same database through dpkg's
// library, not from our parser), and Node's interface list (getifaddrs) for what `ip -j addr`
// (netlink) gives. Skipped with a reason where the tool or file is missing.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { SourceContext } from '../src/source.ts';
import {
  linuxPaths,
  linuxProbe,
  readHostSnapshot,
  readSoftwareSnapshot,
} from '../src/sources/linux-inventory.ts';

const context: SourceContext = {
  signal: new AbortController().signal,
  deviceName: 'this-host',
  health: () => {},
  clearHealth: () => {},
};

const which = (tool: string) =>
  ['/usr/bin', '/bin', '/usr/sbin', '/sbin'].map((d) => `${d}/${tool}`).find(existsSync);
const dpkgQuery = which('dpkg-query');
const ip = which('ip');

describe('the software snapshot of this host', () => {
  const usable = dpkgQuery && existsSync(linuxPaths.dpkgStatus);
  if (!usable) console.log('dpkg-query or /var/lib/dpkg/status missing: the dpkg comparison is skipped');
  it.skipIf(!usable)('lists what dpkg-query lists as installed, with the same versions', async () => {
    const listed = execFileSync(
      dpkgQuery as string,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own ${Field} format
      ['-W', '-f', '${Package}\\t${Version}\\t${db:Status-Status}\\n'],
      {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    const installed = new Set(
      listed
        .trim()
        .split('\n')
        .map((l) => l.split('\t'))
        .filter(([, , status]) => status === 'installed')
        .map(([name, version]) => `${name} ${version}`),
    );
    const rows = (await readSoftwareSnapshot(linuxProbe(), linuxPaths, context)) ?? [];
    const ours = new Set(rows.map((r) => `${r.values.SoftwareName} ${r.values.SoftwareVersion}`));
    expect(installed.size).toBeGreaterThan(50);
    expect([...ours].sort()).toEqual([...installed].sort());
  });
});

describe('the network snapshot of this host', () => {
  if (!ip) console.log('ip (iproute2) missing: the interface comparison is skipped');
  it.skipIf(!ip)("agrees with Node's interface list on addresses, prefixes and MAC addresses", async () => {
    // Node's list first: an interface that comes up in between is then only in ours
    const listed = networkInterfaces();
    const rows = (await readHostSnapshot(linuxProbe(), linuxPaths, context)).filter(
      (r) => r.table === 'DeviceNetworkInfo',
    );
    const ours = new Map(
      rows.map((r) => [
        r.values.NetworkAdapterName as string,
        {
          mac: r.values.MacAddress,
          addresses: (
            JSON.parse(r.values.IPAddresses as string) as { IPAddress: string; SubnetPrefix: number }[]
          )
            .map((a) => `${a.IPAddress}/${a.SubnetPrefix}`)
            .sort(),
        },
      ]),
    );
    for (const [name, list = []] of Object.entries(listed)) {
      const row = ours.get(name);
      expect(row, name).toBeDefined();
      const external = list.find((a) => !a.internal);
      if (external) expect(row?.mac, name).toBe(external.mac);
      // Node lists link-local IPv6 with a scope id, iproute2 without
      expect(row?.addresses, name).toEqual(list.map((a) => a.cidr?.replace(/%[^/]*/, '')).sort());
    }
  });
});
