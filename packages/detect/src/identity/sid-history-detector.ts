// 1106 Suspected SID-History injection: a SID newly added to an account's sIDHistory — 4765
// (4766, the failed attempt, does not count), a 4738/4742 naming a SID history, or a 5136
// adding a value.
// One change shows as several of these rows, so each target alerts once per cooldown.
import { DirectoryAction } from '@palisade/schema';
import { type DetectorMeta, extra, extraList, type IdentityDetector, noFindings, text } from './detector.ts';
import { canonicalAccount, rdnValue } from './directory.ts';
import { actorLabel, attributeChange, rowFinding } from './directory-change.ts';
import { Cooldown, unique } from './windows.ts';

const meta: DetectorMeta = {
  id: 'identity/sid-history',
  externalId: 1106,
  tables: ['IdentityDirectoryEvents'],
  title: 'Suspected SID-History injection',
  severity: 'high',
  tactics: ['Privilege Escalation'],
  techniques: ['T1134', 'T1134.005'],
  description: "A SID was added to an account's SID history, giving it that SID's access.",
};

// How the account-change events write "no value" or "not changed".
const unset = new Set(['', '-', '%%1793']);

export const sidHistoryDetector: IdentityDetector = {
  meta,
  create({ directory }) {
    const cooldown = new Cooldown(10 * 60_000);
    return {
      push(row, time, event) {
        if (row.table !== 'IdentityDirectoryEvents') return noFindings;
        let target = text(row, 'TargetAccountDisplayName');
        let sids: string[];
        const change = attributeChange(row);
        if (change) {
          if (change.attribute !== 'sidhistory' || !change.added) return noFindings;
          target ||= rdnValue(change.dn);
          sids = [change.value];
        } else {
          const named =
            text(row, 'ActionType') === DirectoryAction.sidHistoryChanged ||
            ['4738', '4742'].includes(extra(row, 'EventId'));
          if (!named || extra(row, 'Success') === 'false') return noFindings;
          // 4765 lists the SIDs gained; 4738/4742 print the SID history as text.
          sids = unique([
            ...extraList(row, 'SidHistory').flatMap((s) => s.split(/\s+/)),
            extra(row, 'SourceSid'),
          ]);
        }
        sids = sids.filter((v) => !unset.has(v));
        if (sids.length === 0 || !cooldown.take(canonicalAccount(target), time)) return noFindings;
        const source = extra(row, 'SourceUserName');
        const sensitive = sids.some((sid) => directory.isSensitiveGroup(source, sid))
          ? ' (a sensitive group)'
          : '';
        const what = `${sids.join(', ')}${source ? ` of ${source}` : ''}${sensitive}`;
        return [
          rowFinding(
            row,
            event,
            `${actorLabel(row) || 'An account'} added the SID ${what} to the SID history of ${target || 'an account'}`,
            { targets: { accounts: unique([target]) } },
          ),
        ];
      },
      get size() {
        return cooldown.size;
      },
    };
  },
};
