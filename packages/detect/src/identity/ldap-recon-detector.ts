// 2038 Security principal reconnaissance (LDAP) and 2210 Active Directory attributes
// reconnaissance (LDAP): one source sends many enumeration searches over the whole domain —
// users, groups, computers, trusts, SPNs, admins — or searches for the attributes attackers
// use (no pre-authentication, delegation, admin flags, transitive admin membership, LAPS
// passwords). Seen in IdentityQueryEvents rows, which packets give (LDAP is not audited).
import { QueryAction } from '@palisade/schema';
import type { AlertEvent } from '../alert.ts';
import {
  accountLabel,
  type DetectorMeta,
  type IdentityDetector,
  type IdentityFinding,
  noFindings,
  text,
} from './detector.ts';
import { Cooldown, KeyedWindows, unique } from './windows.ts';

const SOURCES = 20_000;
const PER_SOURCE = 500;

/** Filter parts that enumerate security principals. */
const principalPatterns: readonly RegExp[] = [
  /\(object(class|category)=(user|person|group|computer|trusteddomain|organizationalunit)\)/i,
  /\(serviceprincipalname=\*\)/i,
  /\(samaccounttype=/i,
  /\(admincount=1\)/i,
  /\(memberof[:=]/i,
  /\(useraccountcontrol:1\.2\.840\.113556\.1\.4\.80[34]:=/i,
];

/** Attributes and flags that attack tools look for, with what they reveal. */
const sensitivePatterns: readonly [RegExp, string][] = [
  [
    /useraccountcontrol:1\.2\.840\.113556\.1\.4\.80[34]:=4194304/i,
    'accounts without Kerberos pre-authentication',
  ],
  [/useraccountcontrol:1\.2\.840\.113556\.1\.4\.80[34]:=524288/i, 'accounts trusted for delegation'],
  [/msds-allowedtodelegateto|msds-allowedtoactonbehalfofotheridentity/i, 'delegation settings'],
  [/\(admincount=1\)/i, 'protected administrative accounts'],
  [/memberof:1\.2\.840\.113556\.1\.4\.1941:=/i, 'transitive group membership'],
  [/ms-mcs-admpwd|mslaps-password/i, 'LAPS passwords'],
  [/\(serviceprincipalname=\*\)/i, 'accounts with service principal names'],
];

interface Query {
  readonly filter: string;
  readonly event: AlertEvent;
}

function makeDetector(
  meta: DetectorMeta,
  select: (filter: string) => string | undefined,
  thresholdName: string,
): IdentityDetector {
  return {
    meta,
    create({ thresholds: t }) {
      const windowMs = (t.windowMinutes ?? 10) * 60_000;
      const bySource = new KeyedWindows<Query>(windowMs, SOURCES, PER_SOURCE);
      const cooldown = new Cooldown(60 * 60_000, SOURCES);
      return {
        push(row, time, event): readonly IdentityFinding[] {
          if (row.table !== 'IdentityQueryEvents' || text(row, 'ActionType') !== QueryAction.ldap)
            return noFindings;
          const filter = text(row, 'Query');
          // Searches of the root DSE (empty base) only read server capabilities.
          if (!filter || !text(row, 'QueryTarget')) return noFindings;
          const what = select(filter);
          if (!what) return noFindings;
          const source = text(row, 'IPAddress') || text(row, 'DeviceName');
          if (!source) return noFindings;
          const queries = bySource.add(source, time, {
            filter: `${what}\u0000${filter.toLowerCase()}`,
            event,
          });
          const distinct = unique(queries.map((q) => q.filter));
          if (distinct.length < (t[thresholdName] ?? Number.POSITIVE_INFINITY)) return noFindings;
          bySource.clear(source);
          if (!cooldown.take(source, time)) return noFindings;
          const account = accountLabel(row);
          const topics = unique(distinct.map((d) => d.split('\u0000')[0] as string));
          return [
            {
              timestamp: text(row, 'Timestamp') || event.timestamp,
              description: `${source}${account ? ` (as ${account})` : ''} sent ${distinct.length} LDAP searches within ${windowMs / 60_000} minutes for ${topics.join(', ')}`,
              accounts: unique([account]),
              devices: unique([text(row, 'DeviceName')]),
              ips: unique([text(row, 'IPAddress')]),
              events: queries.map((q) => q.event),
              targets: {
                devices: unique([text(row, 'DestinationDeviceName') || text(row, 'DestinationIPAddress')]),
              },
            },
          ];
        },
        get size() {
          return bySource.size + cooldown.size;
        },
      };
    },
  };
}

export const ldapPrincipalReconDetector = makeDetector(
  {
    id: 'identity/ldap-principal-recon',
    externalId: 2038,
    tables: ['IdentityQueryEvents'],
    title: 'Security principal reconnaissance (LDAP)',
    severity: 'medium',
    tactics: ['Discovery', 'Credential Access'],
    techniques: ['T1087', 'T1087.002'],
    description:
      'One source enumerated users, groups, computers, trusts or service accounts with many LDAP searches.',
    thresholds: {
      // searches: distinct principal-enumeration searches from one source within the window.
      high: { searches: 10, windowMinutes: 10 },
      medium: { searches: 5, windowMinutes: 10 },
      low: { searches: 3, windowMinutes: 10 },
    },
  },
  (filter) => (principalPatterns.some((p) => p.test(filter)) ? 'security principals' : undefined),
  'searches',
);

export const ldapAttributeReconDetector = makeDetector(
  {
    id: 'identity/ldap-attribute-recon',
    externalId: 2210,
    tables: ['IdentityQueryEvents'],
    title: 'Active Directory attributes reconnaissance (LDAP)',
    severity: 'medium',
    tactics: ['Discovery'],
    techniques: ['T1087', 'T1202', 'T1069', 'T1087.002', 'T1069.002'],
    description:
      'One source searched the directory for the attributes attack tools look for: pre-authentication and delegation flags, admin markers, LAPS passwords, SPNs.',
    thresholds: {
      // attributes: distinct sensitive-attribute searches from one source within the window.
      high: { attributes: 5, windowMinutes: 10 },
      medium: { attributes: 3, windowMinutes: 10 },
      low: { attributes: 2, windowMinutes: 10 },
    },
  },
  (filter) => sensitivePatterns.find(([p]) => p.test(filter))?.[1],
  'attributes',
);
