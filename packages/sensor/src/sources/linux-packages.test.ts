import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpeName, parseDpkgStatus, parseRpmQuery, softwareRows } from './linux-packages.ts';

const fixtures = join(import.meta.dirname, '../../fixtures/linux-inventory');
const read = (name: string) => readFileSync(join(fixtures, name), 'utf8');

describe('parseDpkgStatus', () => {
  it('lists the packages dpkg-query reports as installed, with the same versions', () => {
    // dpkg-query --admindir=fixtures/linux-inventory/dpkg -W -f '${Package}\t${Version}\t${db:Status-Status}\n'
    const expected = read('dpkg-query.txt')
      .trim()
      .split('\n')
      .map((l) => l.split('\t'))
      .filter(([, , status]) => status === 'installed')
      .map(([name, version]) => `${name} ${version}`);
    const { packages, problems } = parseDpkgStatus(read('dpkg/status'));
    expect(packages.map((p) => `${p.name} ${p.version}`).sort()).toEqual(expected.sort());
    expect(problems).toEqual([]);
  });

  it('names the offset of a stanza it cannot read and reads the others', () => {
    const text =
      'Package: a\nStatus: install ok installed\nVersion: 1\n\nVersion: 2\n\nnot a field\nPackage: b\nStatus: install ok installed\nVersion: 3\n';
    const { packages, problems } = parseDpkgStatus(text);
    expect(packages.map((p) => p.name)).toEqual(['a', 'b']);
    expect(problems).toEqual([
      {
        code: 'linux-packages/bad-stanza',
        message:
          'expected Package and a three-word Status in the dpkg status stanza at offset 52, found no Package',
        offset: 52,
      },
      {
        code: 'linux-packages/bad-line',
        message: 'expected "Field: value" in the dpkg status stanza at offset 64, found "not a field"',
        offset: 64,
      },
    ]);
    expect(text.slice(52, 62)).toBe('Version: 2');
  });
});

describe('parseRpmQuery', () => {
  it('reads the query format, leaving out (none) values, and reports a broken line', () => {
    const { packages, problems } = parseRpmQuery(read('rpm-qa.txt'));
    expect(packages).toEqual([
      { name: 'bash', version: '5.1.8-9.el9', architecture: 'x86_64', vendor: 'Lab Linux, Inc.' },
      { name: 'openssl-libs', version: '1:3.0.7-27.el9', architecture: 'x86_64', vendor: 'Lab Linux, Inc.' },
      { name: 'gpg-pubkey', version: 'fd431d51-4ae0493b' },
      { name: 'tzdata', version: '2024a-1.el9', architecture: 'noarch', vendor: 'Lab Linux, Inc.' },
    ]);
    expect(problems.map((p) => p.offset)).toEqual([5]);
  });
});

describe('softwareRows', () => {
  it('makes one row per name and version, with the distributor as vendor when the database names none', () => {
    const rows = softwareRows(parseDpkgStatus(read('dpkg/status')).packages, {
      deviceName: 'lab',
      osVersion: '12',
      osArchitecture: '64-bit',
      distributionId: 'debian',
    });
    expect(
      rows.map((r) => [r.values.SoftwareVendor, r.values.SoftwareName, r.values.SoftwareVersion]),
    ).toEqual([
      ['debian', 'base-files', '12.4+deb12u5'],
      ['debian', 'libexample1', '1:2.3.4-1'],
      ['debian', 'openssh-client', '1:9.2p1-2+deb12u3'],
      ['debian', 'pinned-tool', '5.6-1'],
    ]);
    expect(rows[0]?.values).toEqual({
      DeviceName: 'lab',
      OSPlatform: 'Linux',
      OSVersion: '12',
      OSArchitecture: '64-bit',
      SoftwareVendor: 'debian',
      SoftwareName: 'base-files',
      SoftwareVersion: '12.4+deb12u5',
      ProductCodeCpe: 'not available',
    });
  });

  it('writes vendor names in CPE style', () => {
    expect(cpeName('Lab Linux, Inc.')).toBe('lab_linux');
    expect(cpeName('Some Vendor GmbH')).toBe('some_vendor');
    expect(cpeName('libstdc++6')).toBe('libstdc++6');
  });
});
