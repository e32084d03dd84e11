// 2021 User and Group membership reconnaissance (SAMR): one source enumerates users, groups or
// aliases over SAM-R, reads group memberships, or asks about sensitive groups and accounts.
// 2439 Honeytoken was queried via SAM-R: any SAM-R query naming a honeytoken account.
// Both are seen in IdentityQueryEvents rows that packets give (the querying address is known
// there; 4661 events name only the queried DC, so they do not count).
import { QueryAction, type TableRow } from '@palisade/schema';
import type { AlertEvent } from '../alert.ts';
import {
  accountLabel,
  type DetectorMeta,
  extraList,
  type IdentityDetector,
  type IdentityFinding,
  noFindings,
  text,
} from './detector.ts';
import type { DirectoryKnowledge } from './directory.ts';
import { Cooldown, KeyedWindows, unique } from './windows.ts';

const SOURCES = 20_000;
const PER_SOURCE = 500;

/** Query types that list principals or memberships rather than read one object. */
const enumerations: Readonly<Record<string, string>> = {
  EnumerateUsers: 'users',
  EnumerateGroups: 'groups',
  EnumerateAliases: 'aliases',
  EnumerateDisplayInformation: 'display information',
  QueryGroupMembers: 'group members',
  QueryAliasMembers: 'alias members',
  QueryUserGroups: "a user's groups",
  QueryAliasMembership: 'alias membership',
};

/** The names a SAM-R row asks about: its target and, for name lookups, every name. */
function namesOf(row: TableRow): string[] {
  const names = extraList(row, 'Names');
  const target = text(row, 'QueryTarget');
  return names.length ? names : target && !target.startsWith('RID ') ? [target] : [];
}

function sensitive(directory: DirectoryKnowledge, name: string): boolean {
  return directory.isSensitiveGroup(name) || directory.isSensitiveAccount(name);
}

interface Facet {
  readonly what: string;
  readonly event: AlertEvent;
}

export const samrReconDetector: IdentityDetector = {
  meta: {
    id: 'identity/samr-recon',
    externalId: 2021,
    tables: ['IdentityQueryEvents'],
    title: 'User and Group membership reconnaissance (SAMR)',
    severity: 'medium',
    tactics: ['Discovery'],
    techniques: ['T1087', 'T1069', 'T1087.002', 'T1069.002'],
    description:
      'One source enumerated users, groups or memberships over SAM-R, or asked about sensitive groups and accounts.',
    learningPeriodDays: 28,
    thresholds: {
      // facets: distinct enumerations plus distinct sensitive names asked about within the window.
      high: { facets: 4, windowMinutes: 10 },
      medium: { facets: 2, windowMinutes: 10 },
      low: { facets: 1, windowMinutes: 10 },
    },
  } satisfies DetectorMeta,
  create({ thresholds: t, directory }) {
    const windowMs = (t.windowMinutes ?? 10) * 60_000;
    const bySource = new KeyedWindows<Facet>(windowMs, SOURCES, PER_SOURCE);
    const cooldown = new Cooldown(60 * 60_000, SOURCES);
    return {
      push(row, time, event): readonly IdentityFinding[] {
        if (row.table !== 'IdentityQueryEvents' || text(row, 'ActionType') !== QueryAction.samr)
          return noFindings;
        const source = text(row, 'IPAddress');
        // Domain controllers query each other's SAM as part of their work.
        if (!source || directory.isDomainController(source)) return noFindings;
        const facets: string[] = [];
        const enumeration = enumerations[text(row, 'QueryType')];
        if (enumeration) facets.push(enumeration);
        for (const name of namesOf(row)) if (sensitive(directory, name)) facets.push(name);
        if (facets.length === 0) return noFindings;
        let all: readonly Facet[] = [];
        for (const what of facets) all = bySource.add(source, time, { what, event });
        const distinct = unique(all.map((f) => f.what));
        if (distinct.length < (t.facets ?? Number.POSITIVE_INFINITY)) return noFindings;
        bySource.clear(source);
        if (!cooldown.take(source, time)) return noFindings;
        const account = accountLabel(row);
        return [
          {
            timestamp: text(row, 'Timestamp') || event.timestamp,
            description: `${source}${account ? ` (as ${account})` : ''} queried ${distinct.join(', ')} over SAM-R within ${windowMs / 60_000} minutes`,
            accounts: unique([account]),
            devices: unique([text(row, 'DeviceName')]),
            ips: [source],
            events: [...new Set(all.map((f) => f.event))],
            targets: {
              devices: unique([text(row, 'DestinationDeviceName') || text(row, 'DestinationIPAddress')]),
              accounts: distinct.filter((d) => !Object.values(enumerations).includes(d)),
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

export const samrHoneytokenDetector: IdentityDetector = {
  meta: {
    id: 'identity/samr-honeytoken',
    externalId: 2439,
    tables: ['IdentityQueryEvents'],
    title: 'Honeytoken was queried via SAM-R',
    severity: 'low',
    tactics: ['Discovery'],
    techniques: ['T1087', 'T1087.002'],
    description: 'A SAM-R query named an account configured as a honeytoken.',
  },
  create({ directory }) {
    return {
      push(row, _time, event): readonly IdentityFinding[] {
        if (row.table !== 'IdentityQueryEvents' || text(row, 'ActionType') !== QueryAction.samr)
          return noFindings;
        const honey = namesOf(row).filter((n) => directory.isHoneytokenAccount(n));
        if (honey.length === 0) return noFindings;
        const account = accountLabel(row);
        const source = text(row, 'IPAddress');
        return [
          {
            timestamp: text(row, 'Timestamp') || event.timestamp,
            description: `${source || 'an unknown source'}${account ? ` (as ${account})` : ''} asked about honeytoken ${honey.join(', ')} over SAM-R (${text(row, 'QueryType')})`,
            accounts: unique([account]),
            devices: unique([text(row, 'DeviceName')]),
            ips: unique([source]),
            events: [event],
            targets: { accounts: honey },
          },
        ];
      },
      get size() {
        return 0;
      },
    };
  },
};
