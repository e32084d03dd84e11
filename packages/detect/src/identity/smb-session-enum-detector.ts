// 2012 User and IP address reconnaissance (SMB): a source enumerates the SMB sessions of a
// domain controller (SRVSVC NetrSessionEnum) to learn which users are logged on from which
// addresses — BloodHound's session collection, netview.py, `net session \\dc`. Any enumeration
// by a computer that is not a DC counts; one alert per source and target an hour.
import { QueryAction } from '@palisade/schema';
import {
  accountLabel,
  type DetectorMeta,
  extra,
  type IdentityDetector,
  noFindings,
  text,
} from './detector.ts';
import { canonicalHost } from './directory.ts';
import { Cooldown, unique } from './windows.ts';

const meta: DetectorMeta = {
  id: 'identity/smb-session-enumeration',
  externalId: 2012,
  tables: ['IdentityQueryEvents'],
  title: 'User and IP address reconnaissance (SMB)',
  severity: 'medium',
  tactics: ['Discovery'],
  techniques: ['T1087', 'T1049', 'T1087.002'],
  description: 'A source enumerated the SMB sessions of a domain controller: who is logged on, from where.',
};

export const smbSessionEnumerationDetector: IdentityDetector = {
  meta,
  create({ directory }) {
    const cooldown = new Cooldown(60 * 60_000);
    return {
      push(row, time, event) {
        if (
          row.table !== 'IdentityQueryEvents' ||
          text(row, 'ActionType') !== QueryAction.smbSessionEnumeration
        )
          return noFindings;
        const source = text(row, 'IPAddress');
        if (!source || directory.isDomainController(source)) return noFindings;
        const target = text(row, 'DestinationDeviceName') || text(row, 'DestinationIPAddress');
        if (!cooldown.take(`${source}|${canonicalHost(target)}`, time)) return noFindings;
        const account = accountLabel(row);
        const level = extra(row, 'Level');
        const filters = [
          extra(row, 'ClientName') && `client ${extra(row, 'ClientName')}`,
          extra(row, 'UserName') && `user ${extra(row, 'UserName')}`,
        ].filter(Boolean);
        return [
          {
            timestamp: text(row, 'Timestamp') || event.timestamp,
            description: `${source}${account ? ` (as ${account})` : ''} enumerated the SMB sessions of ${target || 'a domain controller'} (${extra(row, 'Method') || 'NetrSessionEnum'}${level ? ` level ${level}` : ''}${filters.length ? `, only ${filters.join(' and ')}` : ''})`,
            accounts: unique([account]),
            devices: unique([text(row, 'DeviceName')]),
            ips: [source],
            events: [event],
            targets: { devices: unique([target]) },
          },
        ];
      },
      get size() {
        return cooldown.size;
      },
    };
  },
};
