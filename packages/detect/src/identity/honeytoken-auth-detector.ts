// 2014 Honeytoken authentication activity: a decoy account (or a decoy computer's machine
// account) that nobody should use authenticated, successfully or not, by any protocol.
import { LogonAction } from '@palisade/schema';
import { accountLabel, type DetectorMeta, type IdentityDetector, noFindings, text } from './detector.ts';
import { canonicalAccount, canonicalHost } from './directory.ts';
import { Cooldown, unique } from './windows.ts';

/** Repeated use of one honeytoken from one source within this span is one incident. */
const INCIDENT_MS = 60 * 60_000;

const meta: DetectorMeta = {
  id: 'identity/honeytoken-authentication',
  externalId: 2014,
  tables: ['IdentityLogonEvents'],
  title: 'Honeytoken authentication activity',
  severity: 'medium',
  tactics: ['Credential Access', 'Discovery'],
  techniques: ['T1087', 'T1087.002'],
  description:
    'An account tagged as a honeytoken, which should never be used, authenticated (successfully or not).',
};

export const honeytokenAuthDetector: IdentityDetector = {
  meta,
  create({ directory }) {
    const incidents = new Cooldown(INCIDENT_MS);
    return {
      push(row, time, event) {
        if (row.table !== 'IdentityLogonEvents') return noFindings;
        const name = text(row, 'AccountName');
        const honeytoken =
          directory.isHoneytokenAccount(name) || (name.endsWith('$') && directory.isHoneytokenDevice(name));
        if (!honeytoken) return noFindings;
        const ip = text(row, 'IPAddress');
        const device = text(row, 'DeviceName');
        const who = accountLabel(row);
        if (!incidents.take(`${canonicalAccount(name)}|${ip || canonicalHost(device)}`, time))
          return noFindings;
        const failed = text(row, 'ActionType') === LogonAction.failure;
        const protocol = text(row, 'Protocol');
        const type = text(row, 'LogonType');
        const how = protocol && type ? `${protocol} (${type})` : protocol || type;
        const from = device && ip ? `${device} (${ip})` : device || ip || 'an unknown source';
        const dc = text(row, 'DestinationDeviceName');
        const service = text(row, 'TargetAccountDisplayName');
        return [
          {
            timestamp: text(row, 'Timestamp') || event.timestamp,
            description:
              `The honeytoken ${who} ${failed ? `failed to authenticate (${text(row, 'FailureReason') || 'failure'})` : 'authenticated'}` +
              `${how ? ` by ${how}` : ''} from ${from}${dc ? ` against ${dc}` : ''}${service ? ` for ${service}` : ''}`,
            accounts: [who],
            devices: unique([device]),
            ips: unique([ip]),
            events: [event],
            targets: { devices: unique([dc]), accounts: unique([service]) },
          },
        ];
      },
      get size() {
        return incidents.size;
      },
    };
  },
};
