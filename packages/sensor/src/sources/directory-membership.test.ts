// Nested group resolution: transitive membership through `member` and the primary group
// (MS-ADTS §3.1.1.4.4: primaryGroupID names a group the account is in without being listed in
// its `member`), membership cycles, and the sensitive entities of the built-in groups.
import { describe, expect, it } from 'vitest';
import {
  type DirectoryObject,
  findSensitiveEntities,
  isSensitiveGroup,
  MembershipGraph,
} from './directory-membership.ts';

const domain = 'S-1-5-21-1-2-3';
let guids = 0;
function object(
  kind: DirectoryObject['kind'],
  cn: string,
  rid: number | string,
  attributes: Record<string, string[]> = {},
): DirectoryObject {
  guids++;
  return {
    kind,
    dn: `CN=${cn},CN=Users,DC=corp,DC=test`,
    guid: `00000000-0000-0000-0000-${String(guids).padStart(12, '0')}`,
    sid: typeof rid === 'number' ? `${domain}-${rid}` : rid,
    usnChanged: guids,
    attributes: { samaccountname: [cn], ...attributes },
  };
}
const dn = (cn: string) => `CN=${cn},CN=Users,DC=corp,DC=test`;

const bob = object('user', 'bob', 1101, { primarygroupid: ['513'] });
const alice = object('user', 'alice', 1102, { primarygroupid: ['513'] });
const carol = object('user', 'carol', 1103, { primarygroupid: ['512'] });
const ws = object('computer', 'WS01$', 1104, { primarygroupid: ['515'] });
const groups = [
  object('group', 'Administrators', 'S-1-5-32-544', { member: [dn('Domain Admins')] }),
  object('group', 'Domain Admins', 512, { member: [dn('Tier0 Ops')] }),
  object('group', 'Domain Users', 513),
  object('group', 'Domain Computers', 515),
  object('group', 'Tier0 Ops', 1201, { member: [dn('Tier0 Nested')] }),
  object('group', 'Tier0 Nested', 1202, { member: [dn('bob')] }),
  object('group', 'Cycle A', 1203, { member: [dn('Cycle B')] }),
  object('group', 'Cycle B', 1204, { member: [dn('Cycle A'), dn('alice')] }),
  object('group', 'Self', 1205, { member: [dn('Self'), dn('alice')] }),
];
const graph = new MembershipGraph(groups);
const names = (list: DirectoryObject[]) => list.map((g) => g.attributes.samaccountname?.[0]);

describe('MembershipGraph', () => {
  it('follows nesting up to the top, with the primary group', () => {
    expect(names(graph.groupsOf(bob))).toEqual([
      'Administrators',
      'Domain Admins',
      'Domain Users',
      'Tier0 Nested',
      'Tier0 Ops',
    ]);
    expect(names(graph.groupsOf(carol))).toEqual(['Administrators', 'Domain Admins']);
  });

  it('ends cycles where they close, and a group is never its own member', () => {
    expect(names(graph.groupsOf(alice))).toEqual(['Cycle A', 'Cycle B', 'Domain Users', 'Self']);
    const cycleA = graph.group(dn('Cycle A')) as DirectoryObject;
    expect(names(graph.groupsOf(cycleA))).toEqual(['Cycle B']);
  });

  it('lists what sits under a group', () => {
    const below = graph.below(dn('Domain Admins'));
    expect([...below.members].sort()).toEqual([dn('Tier0 Nested'), dn('Tier0 Ops'), dn('bob')].sort());
    expect(names(below.groups).sort()).toEqual(['Domain Admins', 'Tier0 Nested', 'Tier0 Ops']);
    expect([...graph.below(dn('Cycle A')).members].sort()).toEqual([
      dn('Cycle A'),
      dn('Cycle B'),
      dn('alice'),
    ]);
  });
});

describe('sensitive entities', () => {
  it('knows the built-in groups by SID, RID or name, and configured ones', () => {
    const [admins, domainAdmins, domainUsers] = groups;
    expect(isSensitiveGroup(admins as DirectoryObject)).toBe(true);
    expect(isSensitiveGroup(domainAdmins as DirectoryObject)).toBe(true);
    expect(isSensitiveGroup(domainUsers as DirectoryObject)).toBe(false);
    expect(isSensitiveGroup(object('group', 'Microsoft Exchange Servers', 1300))).toBe(true);
    // renamed Domain Admins still has RID 512
    expect(isSensitiveGroup(object('group', 'Renamed', 512))).toBe(true);
    expect(isSensitiveGroup(domainUsers as DirectoryObject, ['domain users'])).toBe(true);
    expect(isSensitiveGroup(domainUsers as DirectoryObject, [`${domain}-513`])).toBe(true);
  });

  it('lists direct and nested members, and primary-group members', () => {
    const entities = findSensitiveEntities(graph, [bob, alice, carol, ws, ...groups]);
    expect(entities.map((e) => [e.name, e.kind, e.via])).toEqual([
      ['bob', 'user', ['Administrators', 'Domain Admins']],
      ['carol', 'user', ['Administrators', 'Domain Admins']],
      ['Domain Admins', 'group', ['Administrators']],
      ['Tier0 Ops', 'group', ['Administrators', 'Domain Admins']],
      ['Tier0 Nested', 'group', ['Administrators', 'Domain Admins']],
    ]);
  });
});
