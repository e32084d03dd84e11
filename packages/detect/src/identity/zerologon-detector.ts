// 2411 Suspected Netlogon privilege elevation attempt (CVE-2020-1472, Zerologon): Netlogon
// denying or flagging a secure channel (System 5805, 5827–5829), or a machine account's password
// set by ANONYMOUS LOGON (4742), which is what the exploit does to a DC. The logs do not show
// the attacking host; one alert per target machine per cooldown.
import type { TableRow } from '@palisade/schema';
import {
  type DetectorMeta,
  extra,
  extraList,
  type IdentityDetector,
  type IdentitySeverity,
  noFindings,
  text,
} from './detector.ts';
import { canonicalHost } from './directory.ts';
import { rowFinding } from './directory-change.ts';
import { Cooldown } from './windows.ts';

const meta: DetectorMeta = {
  id: 'identity/zerologon',
  externalId: 2411,
  tables: ['IdentityDirectoryEvents'],
  title: 'Suspected Netlogon privilege elevation attempt (CVE-2020-1472 exploitation)',
  severity: 'high',
  tactics: ['Privilege Escalation'],
  techniques: [],
  description:
    'A vulnerable Netlogon secure channel was attempted, or a machine account password was reset anonymously (Zerologon).',
};

/** What a row shows: the Netlogon events by id, with the insertion string naming the machine. */
interface Sign {
  readonly what: string;
  readonly severity: IdentitySeverity;
  /** Counts only when the machine is a domain controller. */
  readonly dcOnly?: true;
}

const netlogonEvents: Readonly<Record<string, Sign & { readonly machine: number }>> = {
  // "The session setup from the computer %1 failed to authenticate": a DC named here is
  // Zerologon's signature (the exploit poses as the DC); a member computer is a stale password.
  '5805': { machine: 0, what: 'failed to authenticate a Netlogon session', severity: 'high', dcOnly: true },
  '5827': { machine: 0, what: 'was denied a vulnerable Netlogon secure channel', severity: 'high' },
  '5828': {
    machine: 1,
    what: 'was denied a vulnerable Netlogon secure channel (trust account)',
    severity: 'high',
  },
  // Allowed by policy: an old client, or an attack the allow-list let through.
  '5829': { machine: 0, what: 'was allowed a vulnerable Netlogon secure channel', severity: 'medium' },
};

const anonymousReset: Sign = { what: 'had its password set by ANONYMOUS LOGON', severity: 'high' };
const ANONYMOUS = 'S-1-5-7';
const unset = new Set(['', '-', '%%1793']);

/** The machine a row shows under attack, and the sign of it. */
function netlogonSign(row: TableRow): (Sign & { machine: string }) | undefined {
  if (row.table !== 'IdentityDirectoryEvents') return undefined;
  const eventId = extra(row, 'EventId');
  const logged = netlogonEvents[eventId];
  if (logged) return { ...logged, machine: extraList(row, 'Data')[logged.machine] ?? '' };
  if (
    eventId === '4742' &&
    text(row, 'AccountSid') === ANONYMOUS &&
    !unset.has(extra(row, 'PasswordLastSet'))
  ) {
    return { ...anonymousReset, machine: text(row, 'TargetAccountDisplayName') };
  }
  return undefined;
}

export const zerologonDetector: IdentityDetector = {
  meta,
  create({ directory }) {
    const cooldown = new Cooldown(60 * 60_000);
    return {
      push(row, time, event) {
        const sign = netlogonSign(row);
        if (!sign?.machine) return noFindings;
        const device = text(row, 'DeviceName');
        // Netlogon logs on the DC, so a machine named like the device is that DC.
        const dc =
          directory.isDomainController(sign.machine) || canonicalHost(sign.machine) === canonicalHost(device);
        if (sign.dcOnly && !dc) return noFindings;
        if (!cooldown.take(canonicalHost(sign.machine), time)) return noFindings;
        return [
          rowFinding(
            row,
            event,
            `${dc ? 'The domain controller ' : ''}${sign.machine} ${sign.what}${device ? ` (logged on ${device})` : ''}`,
            { devices: [sign.machine], targets: { accounts: [sign.machine] }, severity: sign.severity },
          ),
        ];
      },
      get size() {
        return cooldown.size;
      },
    };
  },
};
