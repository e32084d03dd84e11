// 2430 Suspicious modification of domain AdminSdHolder: any 5136 on CN=AdminSDHolder,CN=System —
// usually its security descriptor, which SDProp copies to every protected account and group
// within the hour, so a grant there is persistent domain-admin control.
import { type DetectorMeta, extra, type IdentityDetector, noFindings } from './detector.ts';
import { canonicalAccount } from './directory.ts';
import { actorLabel, attributeChange, rowFinding } from './directory-change.ts';
import { Cooldown } from './windows.ts';

const meta: DetectorMeta = {
  id: 'identity/adminsdholder',
  externalId: 2430,
  tables: ['IdentityDirectoryEvents'],
  title: 'Suspicious modification of domain AdminSdHolder',
  severity: 'high',
  tactics: ['Persistence', 'Privilege Escalation'],
  techniques: ['T1098'],
  description:
    'The AdminSDHolder object, whose permissions are copied to every protected account and group, was changed.',
};

export const adminSdHolderDetector: IdentityDetector = {
  meta,
  create() {
    // A descriptor change is a delete and an add; one alert per actor.
    const cooldown = new Cooldown(10 * 60_000);
    return {
      push(row, time, event) {
        const change = attributeChange(row);
        if (!change || !/^cn=adminsdholder,cn=system,/i.test(change.dn)) return noFindings;
        const actor = actorLabel(row);
        if (!cooldown.take(canonicalAccount(actor), time)) return noFindings;
        return [
          rowFinding(
            row,
            event,
            `${actor || 'An account'} changed ${extra(row, 'AttributeLDAPDisplayName')} of ${change.dn}`,
          ),
        ];
      },
      get size() {
        return cooldown.size;
      },
    };
  },
};
