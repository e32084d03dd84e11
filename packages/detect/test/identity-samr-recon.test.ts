// SAM-R reconnaissance (2021) and honeytoken SAM-R queries (2439) on hand-written SAM-R query
// rows: enumerations and sensitive names count once each, the Medium level needs two, the High
// level waits out its learning period, domain controllers and excluded sources are silent.
import { describe, expect, it } from 'vitest';
import { IdentityEngine, identityDetectors } from '../src/index.ts';
import { row } from './identity-rows.ts';

const DAY = 86_400;

const samr = (
  seconds: number,
  queryType: string,
  extra: { target?: string; names?: string[]; ip?: string } = {},
) =>
  row(
    'IdentityQueryEvents',
    seconds,
    {
      ActionType: 'SAMR query',
      Protocol: 'Samr',
      QueryType: queryType,
      ...(extra.target ? { QueryTarget: extra.target } : {}),
      IPAddress: extra.ip ?? '10.0.0.66',
      AccountName: 'mallory',
      AccountDomain: 'CORP',
    },
    { Source: 'network', ...(extra.names ? { Names: extra.names } : {}) },
  );

function alerts(config: ConstructorParameters<typeof IdentityEngine>[1], rows: ReturnType<typeof samr>[]) {
  const engine = new IdentityEngine(
    identityDetectors.filter((d) => d.meta.externalId === 2021 || d.meta.externalId === 2439),
    config,
  );
  return rows
    .flatMap(([r, e]) => engine.push(r, e))
    .map((a) => [a.externalId, a.entities?.ips, a.description]);
}

const medium = { levels: { 'identity/samr-recon': 'medium' as const } };

describe('SAM-R reconnaissance (2021)', () => {
  it('alerts at Medium on two enumerations from one source, once', () => {
    expect(
      alerts(medium, [
        samr(0, 'QueryDomain'),
        samr(1, 'EnumerateUsers'),
        samr(2, 'EnumerateUsers'),
        samr(3, 'EnumerateGroups'),
        samr(4, 'EnumerateAliases'),
      ]),
    ).toEqual([
      [
        2021,
        ['10.0.0.66'],
        '10.0.0.66 (as CORP\\mallory) queried users, groups over SAM-R within 10 minutes',
      ],
    ]);
  });

  it('counts sensitive groups and accounts, by target and by looked-up names', () => {
    expect(
      alerts({ ...medium, sensitiveAccounts: ['svc_backup'] }, [
        samr(0, 'QueryGroup', { target: 'Domain Admins' }),
        samr(1, 'LookupNames', { names: ['alice', 'svc_backup'] }),
      ]),
    ).toEqual([
      [
        2021,
        ['10.0.0.66'],
        '10.0.0.66 (as CORP\\mallory) queried Domain Admins, svc_backup over SAM-R within 10 minutes',
      ],
    ]);
    // An ordinary group and an unresolved RID are not sensitive; one enumeration is not enough.
    expect(
      alerts(medium, [
        samr(0, 'QueryGroup', { target: 'Marketing' }),
        samr(1, 'QueryUser', { target: 'RID 1105' }),
        samr(2, 'EnumerateUsers'),
      ]),
    ).toEqual([]);
  });

  it('needs the facets within the window, from one source', () => {
    expect(alerts(medium, [samr(0, 'EnumerateUsers'), samr(11 * 60, 'EnumerateGroups')])).toEqual([]);
    expect(
      alerts(medium, [samr(0, 'EnumerateUsers'), samr(1, 'EnumerateGroups', { ip: '10.0.0.67' })]),
    ).toEqual([]);
  });

  it('learns for 28 days at the High level, then needs four facets', () => {
    const burst = (t: number) => [
      samr(t, 'EnumerateUsers'),
      samr(t + 1, 'EnumerateGroups'),
      samr(t + 2, 'QueryGroupMembers'),
      samr(t + 3, 'QueryGroup', { target: 'Enterprise Admins' }),
    ];
    expect(alerts({}, burst(0))).toEqual([]);
    const after = alerts({}, [...burst(0), ...burst(29 * DAY)]);
    expect(after.map((a) => a[0])).toEqual([2021]);
    expect(alerts({}, [samr(0, 'QueryDomain'), ...burst(29 * DAY).slice(0, 3)])).toEqual([]);
  });

  it('is silent for domain controllers and excluded sources', () => {
    const rows = (ip: string) => [samr(0, 'EnumerateUsers', { ip }), samr(1, 'EnumerateGroups', { ip })];
    expect(alerts({ ...medium, domainControllers: ['10.0.0.5'] }, rows('10.0.0.5'))).toEqual([]);
    expect(alerts({ ...medium, exclusions: { ips: ['10.0.0.0/24'] } }, rows('10.0.0.66'))).toEqual([]);
  });
});

describe('Honeytoken was queried via SAM-R (2439)', () => {
  it('alerts on every SAM-R query naming a honeytoken, by target or looked-up name', () => {
    expect(
      alerts({ honeytokenAccounts: ['CORP\\bait'] }, [
        samr(0, 'QueryUser', { target: 'bait' }),
        samr(1, 'LookupNames', { names: ['alice', 'BAIT'] }),
        samr(2, 'QueryUser', { target: 'alice' }),
      ]),
    ).toEqual([
      [
        2439,
        ['10.0.0.66'],
        '10.0.0.66 (as CORP\\mallory) asked about honeytoken bait over SAM-R (QueryUser)',
      ],
      [
        2439,
        ['10.0.0.66'],
        '10.0.0.66 (as CORP\\mallory) asked about honeytoken BAIT over SAM-R (LookupNames)',
      ],
    ]);
  });
});
