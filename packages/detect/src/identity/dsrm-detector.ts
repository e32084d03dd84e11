// 2438 Directory Services Restore Mode Password Change: 4794 on a domain controller. The DSRM
// administrator is a local account on each DC; with DsrmAdminLogonBehavior set it becomes a
// network-usable backdoor, so any change of its password is worth a look.
import { DirectoryAction } from '@palisade/schema';
import { type DetectorMeta, extra, type IdentityDetector, noFindings, text } from './detector.ts';
import { canonicalHost } from './directory.ts';
import { actorLabel, rowFinding } from './directory-change.ts';
import { Cooldown } from './windows.ts';

const meta: DetectorMeta = {
  id: 'identity/dsrm-password',
  externalId: 2438,
  tables: ['IdentityDirectoryEvents'],
  title: 'Directory Services Restore Mode Password Change',
  severity: 'medium',
  tactics: ['Persistence'],
  techniques: ['T1098'],
  description: "The Directory Services Restore Mode administrator's password was set on a domain controller.",
};

export const dsrmDetector: IdentityDetector = {
  meta,
  create() {
    const cooldown = new Cooldown(10 * 60_000);
    return {
      push(row, time, event) {
        if (row.table !== 'IdentityDirectoryEvents') return noFindings;
        if (
          text(row, 'ActionType') !== DirectoryAction.dsrmPasswordChanged &&
          extra(row, 'EventId') !== '4794'
        )
          return noFindings;
        const dc = text(row, 'DeviceName');
        if (!cooldown.take(canonicalHost(dc), time)) return noFindings;
        const status = extra(row, 'Status');
        const failed = status !== '' && !/^0x0+$/i.test(status) ? ` (the attempt failed with ${status})` : '';
        const from = extra(row, 'Workstation');
        return [
          rowFinding(
            row,
            event,
            `${actorLabel(row) || 'An account'} set the Directory Services Restore Mode password on ${dc || 'a domain controller'}${from ? ` from ${from}` : ''}${failed}`,
            { devices: [dc] },
          ),
        ];
      },
      get size() {
        return cooldown.size;
      },
    };
  },
};
