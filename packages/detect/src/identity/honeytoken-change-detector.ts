// 2427 Honeytoken user attributes modified and 2428 Honeytoken group membership changed: any
// change to a decoy account — an attribute, its password, enabling or disabling it — or any
// group membership change naming it. Decoys are never touched legitimately.
import { DirectoryAction, type TableRow } from '@palisade/schema';
import { extra, type IdentityDetector, noFindings, text } from './detector.ts';
import { canonicalAccount, type DirectoryKnowledge, rdnValue } from './directory.ts';
import { actorLabel, attributeChange, rowFinding } from './directory-change.ts';
import { Cooldown, unique } from './windows.ts';

/** The directory activities that change an account (lockouts come from sign-ins, not changes). */
const accountChanges: ReadonlySet<string> = new Set([
  DirectoryAction.passwordChanged,
  DirectoryAction.samNameChanged,
  DirectoryAction.upnChanged,
  DirectoryAction.disabledChanged,
  DirectoryAction.principalDeleted,
  DirectoryAction.sidHistoryChanged,
  DirectoryAction.delegationChanged,
  DirectoryAction.encryptionTypesChanged,
  DirectoryAction.attributeChanged,
  DirectoryAction.objectDeleted,
]);

/** The first of `names` that is a honeytoken account, or ''. */
function honeytoken(directory: DirectoryKnowledge, names: readonly string[]): string {
  return names.find((n) => directory.isHoneytokenAccount(n)) ?? '';
}

/** One alert per honeytoken and actor per cooldown: one change shows as several rows. */
function honeytokenDetector(
  meta: IdentityDetector['meta'],
  find: (row: TableRow, directory: DirectoryKnowledge) => { token: string; what: string } | undefined,
): IdentityDetector {
  return {
    meta,
    create({ directory }) {
      const cooldown = new Cooldown(10 * 60_000);
      return {
        push(row, time, event) {
          if (row.table !== 'IdentityDirectoryEvents') return noFindings;
          const found = find(row, directory);
          if (!found) return noFindings;
          const actor = actorLabel(row);
          if (!cooldown.take(`${canonicalAccount(found.token)}|${canonicalAccount(actor)}`, time))
            return noFindings;
          return [
            rowFinding(row, event, `${actor || 'An account'} ${found.what}`, {
              targets: { accounts: [found.token] },
            }),
          ];
        },
        get size() {
          return cooldown.size;
        },
      };
    },
  };
}

export const honeytokenChangeDetector = honeytokenDetector(
  {
    id: 'identity/honeytoken-attributes',
    externalId: 2427,
    tables: ['IdentityDirectoryEvents'],
    title: 'Honeytoken user attributes modified',
    severity: 'high',
    tactics: ['Persistence'],
    techniques: ['T1098'],
    description: 'An attribute, the password or the enabled state of a honeytoken account was changed.',
  },
  (row, directory) => {
    const action = text(row, 'ActionType');
    const change = attributeChange(row);
    if (!change && !accountChanges.has(action)) return undefined;
    const token = honeytoken(
      directory,
      unique([
        text(row, 'TargetAccountDisplayName'),
        text(row, 'TargetAccountUpn'),
        extra(row, 'SamAccountName'),
        extra(row, 'OldTargetUserName'),
        extra(row, 'TargetSid'),
        change ? rdnValue(change.dn) : '',
      ]),
    );
    if (!token) return undefined;
    return {
      token,
      what: `changed the honeytoken account ${token}: ${change ? extra(row, 'AttributeLDAPDisplayName') : action}`,
    };
  },
);

export const honeytokenGroupDetector = honeytokenDetector(
  {
    id: 'identity/honeytoken-group',
    externalId: 2428,
    tables: ['IdentityDirectoryEvents'],
    title: 'Honeytoken group membership changed',
    severity: 'high',
    tactics: ['Persistence'],
    techniques: ['T1098'],
    description: 'A honeytoken account was added to or removed from a group.',
  },
  (row, directory) => {
    // A group row, or a 5136 on a group's member attribute.
    const change = attributeChange(row);
    let member: string[];
    let group: string;
    let removed: boolean;
    if (change?.attribute === 'member') {
      member = [rdnValue(change.value)];
      group = rdnValue(change.dn);
      removed = !change.added;
    } else if (text(row, 'ActionType') === DirectoryAction.groupMembership) {
      member = [
        text(row, 'TargetAccountDisplayName'),
        rdnValue(extra(row, 'MemberName')),
        extra(row, 'MemberSid'),
      ];
      removed = extra(row, 'Action') === 'Removed';
      group = (removed ? extra(row, 'FROM.GROUP') : extra(row, 'TO.GROUP')) || extra(row, 'GroupName');
    } else return undefined;
    const token = honeytoken(directory, unique(member));
    if (!token) return undefined;
    return {
      token,
      what: `${removed ? 'removed' : 'added'} the honeytoken account ${token} ${removed ? 'from' : 'to'} ${group || 'a group'}`,
    };
  },
);
