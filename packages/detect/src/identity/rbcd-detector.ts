// 2423 Suspicious modification of the Resource Based Constrained Delegation attribute by a
// machine account: a 5136 adding msDS-AllowedToActOnBehalfOfOtherIdentity written by a computer
// account — what relaying a computer's authentication to LDAP (KrbRelayUp, ntlmrelayx
// --delegate-access) does; administrators set it from user accounts.
import { type DetectorMeta, type IdentityDetector, noFindings, text } from './detector.ts';
import { canonicalHost, rdnValue } from './directory.ts';
import { actorLabel, attributeChange, rowFinding } from './directory-change.ts';
import { Cooldown } from './windows.ts';

const meta: DetectorMeta = {
  id: 'identity/rbcd-by-machine',
  externalId: 2423,
  tables: ['IdentityDirectoryEvents'],
  title:
    'Suspicious modification of the Resource Based Constrained Delegation attribute by a machine account',
  severity: 'high',
  tactics: ['Defense Evasion', 'Privilege Escalation'],
  techniques: ['T1484'],
  description:
    'A machine account wrote msDS-AllowedToActOnBehalfOfOtherIdentity, letting another account impersonate users to it.',
};

export const rbcdDetector: IdentityDetector = {
  meta,
  create() {
    const cooldown = new Cooldown(10 * 60_000);
    return {
      push(row, time, event) {
        const change = attributeChange(row);
        if (change?.attribute !== 'msds-allowedtoactonbehalfofotheridentity' || !change.added)
          return noFindings;
        const actor = text(row, 'AccountName');
        if (!actor.endsWith('$')) return noFindings;
        const target = text(row, 'TargetAccountDisplayName') || rdnValue(change.dn);
        if (!cooldown.take(`${canonicalHost(target)}|${actor.toLowerCase()}`, time)) return noFindings;
        const self =
          canonicalHost(actor) === canonicalHost(target)
            ? ' (its own object: a relayed machine account)'
            : '';
        return [
          rowFinding(
            row,
            event,
            `The machine account ${actorLabel(row)} set resource-based constrained delegation on ${target}${self}`,
            { targets: { devices: [target] } },
          ),
        ];
      },
      get size() {
        return cooldown.size;
      },
    };
  },
};
