// 2028 and 2029 Suspected DCShadow attack. Promotion: a computer that is not a known domain
// controller is registered as one — a server or nTDSDSA object created under the Sites
// container (5137), or the directory-replication or global-catalog SPN given to it (5136, or a
// 4742 listing it). Replication request: the Replication-Synchronize or Manage-Topology right
// exercised (4662) by an account that is not a domain controller's machine account.
import type { TableRow } from '@palisade/schema';
import { extra, extraList, type IdentityDetector, noFindings, text } from './detector.ts';
import { canonicalAccount, canonicalHost, rdnValue } from './directory.ts';
import { actorLabel, attributeChange, rowFinding } from './directory-change.ts';
import { Cooldown } from './windows.ts';

// MS-DRSR §2.2.3.2: the SPNs other DCs use to replicate with a DC (DRS interface GUID) or a GC.
const dcSpn = /^(e3514235-4b06-11d1-ab04-00c04fc2dcd2|gc)\//i;
// MS-ADTS §5.1.3.2.1 control access rights, lower case without braces as rows carry them.
const replicationRights: Readonly<Record<string, string>> = {
  '1131f6ab-9c07-11d1-f79f-00c04fc2dcd2': 'DS-Replication-Synchronize',
  '1131f6ac-9c07-11d1-f79f-00c04fc2dcd2': 'DS-Replication-Manage-Topology',
};

/** The computer a row registers as a domain controller, and how; undefined when it registers none. */
function registration(row: TableRow): { computer: string; how: string } | undefined {
  if (row.table !== 'IdentityDirectoryEvents') return undefined;
  const eventId = extra(row, 'EventId');
  const dn = extra(row, 'ObjectDN');
  if (eventId === '5137' && /,cn=sites,cn=configuration,/i.test(dn)) {
    const objectClass = extra(row, 'ObjectClass').toLowerCase();
    // CN=NTDS Settings,CN=<computer>,CN=Servers,CN=<site>,CN=Sites,… or CN=<computer>,CN=Servers,…
    if (objectClass === 'ntdsdsa')
      return { computer: rdnValue(dn.slice(dn.indexOf(',') + 1)), how: `created ${dn}` };
    if (objectClass === 'server') return { computer: rdnValue(dn), how: `created ${dn}` };
    return undefined;
  }
  const change = attributeChange(row);
  if (change) {
    if (change.attribute !== 'serviceprincipalname' || !change.added || !dcSpn.test(change.value))
      return undefined;
    return { computer: rdnValue(change.dn), how: `added the SPN ${change.value}` };
  }
  if (eventId === '4742') {
    const spn = extraList(row, 'ServicePrincipalNames')
      .flatMap((s) => s.split(/\s+/))
      .find((s) => dcSpn.test(s));
    if (spn) return { computer: text(row, 'TargetAccountDisplayName'), how: `gave it the SPN ${spn}` };
  }
  return undefined;
}

export const dcShadowPromotionDetector: IdentityDetector = {
  meta: {
    id: 'identity/dcshadow-promotion',
    externalId: 2028,
    tables: ['IdentityDirectoryEvents'],
    title: 'Suspected DCShadow attack (domain controller promotion)',
    severity: 'high',
    tactics: ['Defense Evasion'],
    techniques: ['T1207'],
    description: 'A computer that is not a known domain controller was registered as a domain controller.',
  },
  create({ directory }) {
    const cooldown = new Cooldown(60 * 60_000);
    return {
      push(row, time, event) {
        const found = registration(row);
        if (!found?.computer || directory.isDomainController(found.computer)) return noFindings;
        if (!cooldown.take(canonicalHost(found.computer), time)) return noFindings;
        return [
          rowFinding(
            row,
            event,
            `${actorLabel(row) || 'An account'} registered ${found.computer} as a domain controller (${found.how}); it is not a known domain controller`,
            { devices: [found.computer] },
          ),
        ];
      },
      get size() {
        return cooldown.size;
      },
    };
  },
};

export const dcShadowReplicationDetector: IdentityDetector = {
  meta: {
    id: 'identity/dcshadow-replication',
    externalId: 2029,
    tables: ['IdentityDirectoryEvents'],
    title: 'Suspected DCShadow attack (domain controller replication request)',
    severity: 'high',
    tactics: ['Defense Evasion'],
    techniques: ['T1207'],
    description:
      'A replication request (synchronize or manage topology) from an account that is not a domain controller.',
  },
  create({ directory }) {
    const cooldown = new Cooldown(10 * 60_000);
    return {
      push(row, time, event) {
        if (row.table !== 'IdentityDirectoryEvents') return noFindings;
        const guids = new Set(extraList(row, 'Guids').map((g) => g.toLowerCase()));
        const rights = Object.entries(replicationRights).flatMap(([guid, name]) =>
          guids.has(guid) ? [name] : [],
        );
        if (rights.length === 0) return noFindings;
        const account = text(row, 'AccountName');
        if (!account) return noFindings;
        // A DC replicating with its own machine account is normal.
        if (account.endsWith('$') && directory.isDomainController(account)) return noFindings;
        const ip = text(row, 'IPAddress');
        if (ip && directory.isDomainController(ip)) return noFindings;
        const who = actorLabel(row);
        if (!cooldown.take(canonicalAccount(who), time)) return noFindings;
        const dc = text(row, 'DeviceName');
        return [
          rowFinding(
            row,
            event,
            `${who} used ${rights.join(' and ')} against ${dc || 'a domain controller'}, and is not a domain controller`,
          ),
        ];
      },
      get size() {
        return cooldown.size;
      },
    };
  },
};
