// 2024 Suspicious additions to sensitive groups: a member added to a sensitive group — built
// in, configured, or nested in one. Defender for Identity learns each DC's behaviour for four
// weeks first; at Medium or Low, or in test mode, it alerts at once.
import { DirectoryAction } from '@palisade/schema';
import { type DetectorMeta, extra, type IdentityDetector, noFindings, text } from './detector.ts';
import { rdnValue } from './directory.ts';
import { actorLabel } from './directory-change.ts';
import { unique } from './windows.ts';

const meta: DetectorMeta = {
  id: 'identity/sensitive-group-addition',
  externalId: 2024,
  tables: ['IdentityDirectoryEvents'],
  title: 'Suspicious additions to sensitive groups',
  severity: 'medium',
  tactics: ['Persistence', 'Credential Access'],
  techniques: ['T1098', 'T1484'],
  description: 'A member was added to a sensitive group (directly, or to a group nested in one).',
  learningPeriodDays: 28,
};

export const sensitiveGroupDetector: IdentityDetector = {
  meta,
  create({ directory }) {
    return {
      push(row, _time, event) {
        if (
          row.table !== 'IdentityDirectoryEvents' ||
          text(row, 'ActionType') !== DirectoryAction.groupMembership
        )
          return noFindings;
        if (extra(row, 'Action') !== 'Added') return noFindings;
        const group = extra(row, 'TO.GROUP') || extra(row, 'GroupName');
        if (!directory.isSensitiveGroup(group, extra(row, 'GroupSid'))) return noFindings;
        const member =
          text(row, 'TargetAccountDisplayName') ||
          rdnValue(extra(row, 'MemberName')) ||
          extra(row, 'MemberSid');
        // Samba names the actor by SID only.
        const actor = actorLabel(row);
        return [
          {
            timestamp: text(row, 'Timestamp') || event.timestamp,
            description: `${actor || 'An account'} added ${member || 'a member'} to the sensitive group ${group}`,
            accounts: unique([actor]),
            devices: [],
            ips: unique([text(row, 'IPAddress')]),
            events: [event],
            // The DC that logged the change is where it happened, not who did it.
            targets: { accounts: unique([member]), devices: unique([text(row, 'DeviceName')]) },
          },
        ];
      },
      size: 0,
    };
  },
};
