// 2006 Suspected DCSync attack: directory replication rights (Get-Changes, Get-Changes-All)
// exercised by an account that is not a domain controller's machine account.
import { DirectoryAction } from '@palisade/schema';
import {
  accountLabel,
  type DetectorMeta,
  extra,
  extraList,
  type IdentityDetector,
  noFindings,
  text,
} from './detector.ts';
import { canonicalAccount } from './directory.ts';
import { Cooldown, unique } from './windows.ts';

const meta: DetectorMeta = {
  id: 'identity/dcsync',
  externalId: 2006,
  tables: ['IdentityDirectoryEvents'],
  title: 'Suspected DCSync attack (replication of directory services)',
  severity: 'high',
  tactics: ['Credential Access', 'Persistence'],
  techniques: ['T1003', 'T1003.006'],
  description: 'A directory replication request from an account or computer that is not a domain controller.',
};

export const dcsyncDetector: IdentityDetector = {
  meta,
  create({ directory }) {
    const cooldown = new Cooldown(10 * 60_000);
    return {
      push(row, time, event) {
        if (
          row.table !== 'IdentityDirectoryEvents' ||
          text(row, 'ActionType') !== DirectoryAction.replication
        )
          return noFindings;
        const rights = extraList(row, 'ReplicationRights');
        if (!rights.some((r) => r === 'Get-Changes' || r === 'Get-Changes-All')) return noFindings;
        const account = text(row, 'AccountName');
        if (!account) return noFindings;
        // A DC replicating with its own machine account is normal.
        if (account.endsWith('$') && directory.isDomainController(account)) return noFindings;
        const ip = text(row, 'IPAddress');
        if (ip && directory.isDomainController(ip)) return noFindings;
        const who = accountLabel(row);
        if (!cooldown.take(canonicalAccount(who), time)) return noFindings;
        // A DC's own 4662 names the DC as DeviceName; a row from packets names the client there
        // and the DC as the destination.
        const network = extra(row, 'Source') === 'network';
        const dc = network
          ? text(row, 'DestinationDeviceName') || text(row, 'DestinationIPAddress')
          : text(row, 'DeviceName');
        return [
          {
            timestamp: text(row, 'Timestamp') || event.timestamp,
            description: `${who} used directory replication rights (${rights.join(', ')}) against ${dc || 'a domain controller'}, and is not a domain controller`,
            accounts: [who],
            devices: network ? unique([text(row, 'DeviceName')]) : [],
            ips: unique([ip]),
            events: [event],
            targets: { devices: unique([dc]) },
          },
        ];
      },
      get size() {
        return cooldown.size;
      },
    };
  },
};
