// 2419 sAMAccountName spoofing (CVE-2021-42278 and CVE-2021-42287, noPac): an account renamed
// (4781, a 4742 naming a new SamAccountName, or a 5136 on sAMAccountName) to a domain
// controller's name without the trailing `$` — once the name is gone again, the KDC appends `$`
// and issues a ticket for the DC — is high; a computer account renamed to any name without `$`
// is medium.
import type { TableRow } from '@palisade/schema';
import { type DetectorMeta, extra, type IdentityDetector, noFindings, text } from './detector.ts';
import { canonicalAccount, canonicalHost } from './directory.ts';
import { actorLabel, attributeChange, rowFinding } from './directory-change.ts';
import { Cooldown, unique } from './windows.ts';

const meta: DetectorMeta = {
  id: 'identity/samname-spoofing',
  externalId: 2419,
  tables: ['IdentityDirectoryEvents'],
  title:
    'Suspicious modification of a sAMNameAccount attribute (CVE-2021-42278 and CVE-2021-42287 exploitation)',
  severity: 'high',
  tactics: ['Credential Access'],
  techniques: ['T1134', 'T1068', 'T1558', 'T1134.001'],
  description:
    "An account was renamed to a domain controller's name without the trailing $, or a computer account to any name without it.",
};

const unset = new Set(['', '-', '%%1793']);

/** The rename a row records: old name when it shows it, new name, and whether it is a computer. */
function rename(row: TableRow): { from: string; to: string; computer: boolean } | undefined {
  if (row.table !== 'IdentityDirectoryEvents') return undefined;
  const eventId = extra(row, 'EventId');
  if (eventId === '4781') {
    const from = extra(row, 'OldTargetUserName');
    // Computer accounts' names end with `$`.
    return { from, to: extra(row, 'NewTargetUserName'), computer: from.endsWith('$') };
  }
  if (eventId === '4742') {
    // 4742 is about computer accounts; it names the SamAccountName only when it changed.
    const to = extra(row, 'SamAccountName');
    return unset.has(to) ? undefined : { from: '', to, computer: true };
  }
  const change = attributeChange(row);
  if (change?.attribute !== 'samaccountname' || !change.added) return undefined;
  // Samba's modify rows carry no object class: only a DC's name counts there.
  return { from: '', to: change.value, computer: change.objectClass.toLowerCase() === 'computer' };
}

/** Computer names remembered by SID, so a 4742 showing only the new name can name the old. */
const NAMES = 10_000;

export const samNameSpoofingDetector: IdentityDetector = {
  meta,
  create({ directory }) {
    const cooldown = new Cooldown(60 * 60_000);
    const names = new Map<string, string>();
    return {
      push(row, time, event) {
        const sid = extra(row, 'TargetSid');
        const renamed = rename(row);
        const current = text(row, 'TargetAccountDisplayName');
        if (sid && current.endsWith('$')) {
          names.delete(sid);
          if (names.size >= NAMES) names.delete(names.keys().next().value ?? '');
          names.set(sid, current);
        }
        if (!renamed?.to || renamed.to.endsWith('$')) return noFindings;
        const device = text(row, 'DeviceName');
        // The DC logging the change is a DC even before the directory knows it.
        const dc =
          directory.isDomainController(renamed.to) || canonicalHost(renamed.to) === canonicalHost(device);
        if (!dc && !renamed.computer) return noFindings;
        const actor = actorLabel(row);
        // One rename shows as 4742 and 4781 (and 5136): one alert per actor and level, and a
        // high one covers the renames that follow it (renaming the account back).
        const key = canonicalAccount(actor);
        if (!cooldown.take(`${dc ? 'high' : 'medium'}|${key}`, time)) return noFindings;
        if (dc) cooldown.take(`medium|${key}`, time);
        const from = renamed.from || (sid ? names.get(sid) : undefined) || '';
        const what = dc
          ? `the name of the domain controller ${renamed.to}`
          : `${renamed.to}, without the trailing $`;
        return [
          rowFinding(
            row,
            event,
            `${actor || 'An account'} renamed ${renamed.computer ? 'the computer account' : 'the account'} ${from ? `${from} ` : ''}to ${what}`,
            { targets: { accounts: unique([from, renamed.to]) }, severity: dc ? 'high' : 'medium' },
          ),
        ];
      },
      get size() {
        return cooldown.size + names.size;
      },
    };
  },
};
