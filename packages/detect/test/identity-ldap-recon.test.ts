// LDAP reconnaissance (2038 principals, 2210 attributes) on hand-written LDAP query rows: many
// enumeration searches from one source alert, a few do not, root-DSE reads never count, and an
// excluded source is silent.
import { describe, expect, it } from 'vitest';
import { IdentityEngine, identityDetectors } from '../src/index.ts';
import { row } from './identity-rows.ts';

const query = (seconds: number, filter: string, ip = '10.0.0.66', base = 'DC=corp,DC=example') =>
  row('IdentityQueryEvents', seconds, {
    ActionType: 'LDAP query',
    Protocol: 'Ldap',
    Query: filter,
    QueryTarget: base,
    IPAddress: ip,
    AccountName: 'mallory',
    AccountDomain: 'CORP',
  });

const enumeration = [
  '(&(objectCategory=person)(objectClass=user))',
  '(objectClass=group)',
  '(objectClass=computer)',
  '(objectClass=trustedDomain)',
  '(adminCount=1)',
  '(userAccountControl:1.2.840.113556.1.4.803:=4194304)',
];

function alerts(config: ConstructorParameters<typeof IdentityEngine>[1], rows: ReturnType<typeof query>[]) {
  const engine = new IdentityEngine(
    identityDetectors.filter((d) => d.meta.externalId === 2038 || d.meta.externalId === 2210),
    config,
  );
  return rows
    .flatMap(([r, e]) => engine.push(r, e))
    .map((a) => [a.externalId, a.entities?.ips, a.entities?.accounts]);
}

describe('LDAP reconnaissance (2038, 2210)', () => {
  it('alerts on a burst of enumeration and sensitive-attribute searches from one source', () => {
    expect(
      alerts(
        { testMode: true },
        enumeration.map((f, i) => query(i, f)),
      ),
    ).toEqual([
      [2038, ['10.0.0.66'], ['CORP\\mallory']],
      [2210, ['10.0.0.66'], ['CORP\\mallory']],
    ]);
  });

  it('needs more searches at the High level, and does not count repeats or root-DSE reads', () => {
    expect(
      alerts(
        {},
        enumeration.map((f, i) => query(i, f)),
      ),
    ).toEqual([]);
    const repeats = Array.from({ length: 20 }, (_, i) => query(i, '(objectClass=group)'));
    const rootDse = Array.from({ length: 20 }, (_, i) => query(i, `(objectClass=user${i})`, '10.0.0.66', ''));
    expect(alerts({ testMode: true }, [...repeats, ...rootDse])).toEqual([]);
  });

  it('is silent for an excluded source', () => {
    expect(
      alerts(
        { testMode: true, exclusions: { ips: ['10.0.0.0/24'] } },
        enumeration.map((f, i) => query(i, f)),
      ),
    ).toEqual([]);
  });
});
