// Sync pass planning over a directory held in memory: what a full pass, an incremental pass, a
// resumed pass and a pass against another DC deliver, in which order and under which keys.
import { describe, expect, it } from 'vitest';
import type { DirectoryIdentity, DirectoryReader } from './directory-ldap.ts';
import type { DirectoryObject } from './directory-membership.ts';
import { type DirectoryCheckpoint, passChunks, planSyncPass } from './directory-sync.ts';

const domain = 'S-1-5-21-7-8-9';
const dn = (cn: string) => `CN=${cn},CN=Users,DC=corp,DC=test`;
const guid = (n: number) => `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`;

function make(
  kind: DirectoryObject['kind'],
  cn: string,
  n: number,
  usn: number,
  extra: Record<string, string[]> = {},
) {
  return {
    kind,
    dn: dn(cn),
    guid: guid(n),
    sid: `${domain}-${1000 + n}`,
    usnChanged: usn,
    attributes: {
      samaccountname: [cn],
      whenchanged: [`2024010100${String(usn).padStart(4, '0')}.0Z`],
      ...extra,
    },
  } satisfies DirectoryObject;
}

/** A directory in memory answering the filters the planner sends. */
function directory(objects: DirectoryObject[], highest: number, invocationId = 'dc-a'): DirectoryReader {
  const identity: DirectoryIdentity = {
    invocationId,
    dnsHostName: 'dc1.corp.test',
    highestCommittedUsn: highest,
    baseDn: 'DC=corp,DC=test',
    domain: 'corp.test',
  };
  const matches = (o: DirectoryObject, filter: string) => {
    const range = /\(uSNChanged>=(\d+)\)\(uSNChanged<=(\d+)\)/.exec(filter);
    if (range) return o.usnChanged >= Number(range[1]) && o.usnChanged <= Number(range[2]);
    const terms = [...filter.matchAll(/\((\w+)=([^()]*)\)/g)].map((m) => [m[1], m[2]]);
    return terms.some(([name, value]) => {
      if (name === 'distinguishedName') return value === o.dn;
      if (name === 'primaryGroupID') return value === o.attributes.primarygroupid?.[0];
      if (name === 'objectGUID') return value === guidBytes(o.guid);
      return false;
    });
  };
  return {
    identity,
    groups: async () => objects.filter((o) => o.kind === 'group'),
    accounts: async (filter) => objects.filter((o) => o.kind !== 'group' && matches(o, filter)),
    close: async () => {},
  };
}
function guidBytes(g: string): string {
  const h = g.replaceAll('-', '');
  return [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15]
    .map((i) => `\\${h.slice(2 * i, 2 * i + 2)}`)
    .join('');
}

const domainAdmins = (members: string[], usn = 10) =>
  ({
    ...make('group', 'Domain Admins', 0, usn, { member: members }),
    sid: `${domain}-512`,
  }) as DirectoryObject;
const users = () => [
  make('user', 'alice', 1, 11, { primarygroupid: ['513'] }),
  make('user', 'bob', 2, 12, { primarygroupid: ['513'] }),
  make('user', 'carol', 3, 13, { primarygroupid: ['513'] }),
];
const start = () => [
  ...users(),
  domainAdmins([dn('Tier0')]),
  make('group', 'Tier0', 4, 14, { member: [dn('bob')] }),
  { ...make('group', 'Domain Users', 5, 15), sid: `${domain}-513` } as DirectoryObject,
];
const names = (items: readonly { object: DirectoryObject }[]) =>
  items.map((i) => i.object.attributes.samaccountname?.[0]);

describe('planSyncPass', () => {
  it('reads everything in uSN order on the first pass', async () => {
    const pass = await planSyncPass(directory(start(), 20), undefined);
    expect(pass.full).toBe(true);
    expect(names(pass.items)).toEqual(['Domain Admins', 'alice', 'bob', 'carol', 'Tier0', 'Domain Users']);
    expect(pass.items.map((i) => i.key)).toEqual([10, 11, 12, 13, 14, 15]);
    expect(pass.checkpoint).toEqual({
      invocationId: 'dc-a',
      dnsHostName: 'dc1.corp.test',
      usn: 20,
      sensitive: [guid(2), guid(4)],
    });
  });

  it('re-sends the accounts under a changed group, under the change that affects them', async () => {
    // one key for the three, so they go in GUID order
    const first = await planSyncPass(directory(start(), 20), undefined);
    const changed = start().map((o) =>
      o.dn === dn('Tier0') ? make('group', 'Tier0', 4, 21, { member: [dn('bob'), dn('carol')] }) : o,
    );
    const pass = await planSyncPass(directory(changed, 22), first.checkpoint);
    expect(pass.full).toBe(false);
    expect(pass.items.map((i) => [names([i])[0], i.key, i.reasons])).toEqual([
      ['bob', 21, ['membership']],
      ['carol', 21, ['membership', 'sensitivity']],
      ['Tier0', 21, ['changed']],
    ]);
    expect(pass.items[1]?.timestamp).toBe('2024-01-01T00:00:21.000Z');
    expect(pass.checkpoint.sensitive).toEqual([guid(2), guid(3), guid(4)]);
  });

  it('re-sends an account that left the sensitive entities', async () => {
    const first = await planSyncPass(directory(start(), 20), undefined);
    const changed = start().map((o) =>
      o.dn === dn('Tier0') ? make('group', 'Tier0', 4, 21, { member: [] }) : o,
    );
    const pass = await planSyncPass(directory(changed, 22), first.checkpoint);
    expect(pass.items.map((i) => [names([i])[0], i.key, i.reasons])).toEqual([
      ['bob', 21, ['sensitivity']],
      ['Tier0', 21, ['changed']],
    ]);
  });

  it('resumes after the last item delivered, and starts over against another DC', async () => {
    const first = await planSyncPass(directory(start(), 20), undefined);
    const from: DirectoryCheckpoint = { ...first.checkpoint, usn: 0, after: { key: 12, guid: guid(2) } };
    expect(names((await planSyncPass(directory(start(), 20), from)).items)).toEqual([
      'carol',
      'Tier0',
      'Domain Users',
    ]);
    const other = await planSyncPass(directory(start(), 20, 'dc-b'), {
      ...first.checkpoint,
      after: { key: 12, guid: guid(2) },
    });
    expect(other.full).toBe(true);
    expect(other.items).toHaveLength(6);
  });
});

describe('passChunks', () => {
  it('gives every chunk but the last a checkpoint inside the pass', async () => {
    const reader = directory(start(), 20);
    const pass = await planSyncPass(reader, undefined);
    const chunks = [...passChunks(pass, undefined, reader.identity, 4)];
    expect(chunks.map((c) => c.rows.length)).toEqual([7, 2]);
    expect(chunks[0]?.checkpoint).toEqual({
      invocationId: 'dc-a',
      dnsHostName: 'dc1.corp.test',
      usn: 0,
      sensitive: [],
      after: { key: 13, guid: guid(3) },
    });
    expect(chunks[1]?.checkpoint).toEqual(pass.checkpoint);
  });

  it('moves the checkpoint without rows when only the uSN moved, and says nothing otherwise', async () => {
    const first = await planSyncPass(directory(start(), 20), undefined);
    const later = directory(start(), 25);
    const pass = await planSyncPass(later, first.checkpoint);
    expect([...passChunks(pass, first.checkpoint, later.identity, 10)]).toEqual([
      { rows: [], events: [], checkpoint: { ...first.checkpoint, usn: 25 } },
    ]);
    const same = await planSyncPass(later, pass.checkpoint);
    expect([...passChunks(same, pass.checkpoint, later.identity, 10)]).toEqual([]);
  });
});
