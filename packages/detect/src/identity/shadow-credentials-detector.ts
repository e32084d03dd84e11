// 2431 Suspected account takeover using shadow credentials: a 5136 adding a value to another
// account's msDS-KeyCredentialLink (Whisker, pyWhisker, ntlmrelayx --shadow-credentials), which
// lets the writer authenticate as that account with PKINIT. Computers write their own key
// when they register; that is normal.
import { type DetectorMeta, type IdentityDetector, noFindings, text } from './detector.ts';
import { canonicalAccount, rdnValue } from './directory.ts';
import { actorLabel, attributeChange, rowFinding } from './directory-change.ts';
import { Cooldown } from './windows.ts';

const meta: DetectorMeta = {
  id: 'identity/shadow-credentials',
  externalId: 2431,
  tables: ['IdentityDirectoryEvents'],
  title: 'Suspected account takeover using shadow credentials',
  severity: 'high',
  tactics: ['Credential Access'],
  techniques: ['T1003'],
  description:
    "A key credential was added to another account's msDS-KeyCredentialLink, letting its writer sign in as that account.",
};

export const shadowCredentialsDetector: IdentityDetector = {
  meta,
  create() {
    const cooldown = new Cooldown(10 * 60_000);
    return {
      push(row, time, event) {
        const change = attributeChange(row);
        if (change?.attribute !== 'msds-keycredentiallink' || !change.added) return noFindings;
        const actor = text(row, 'AccountName');
        const target = text(row, 'TargetAccountDisplayName') || rdnValue(change.dn);
        // A computer (WS01$) writing its own object (CN=WS01,…) is registering its key.
        const bare = (name: string) => canonicalAccount(name).replace(/\$$/, '');
        if (actor && bare(actor) === bare(target)) return noFindings;
        if (!cooldown.take(`${canonicalAccount(target)}|${actor.toLowerCase()}`, time)) return noFindings;
        return [
          rowFinding(row, event, `${actorLabel(row) || 'An account'} added a key credential to ${target}`, {
            targets: { accounts: [target] },
          }),
        ];
      },
      get size() {
        return cooldown.size;
      },
    };
  },
};
