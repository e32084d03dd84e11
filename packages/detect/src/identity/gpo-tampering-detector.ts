// 2440 Group Policy Tampering. Defender for Identity alerts on GPO changes that turn off
// Microsoft Defender; those settings live in the policy files in SYSVOL, which directory logs do
// not show. What 5136 on the groupPolicyContainer does show is which client-side extensions a
// policy asks clients to run (gPCMachineExtensionNames, gPCUserExtensionNames) and where its
// files are (gPCFileSysPath). So this alerts, for accounts not marked sensitive, when an
// extension often abused to run code or change security settings is added to a policy, or when
// its files are moved. versionNumber changes with every edit and says nothing alone.
import { type DetectorMeta, type IdentityDetector, noFindings, text } from './detector.ts';
import { rdnValue } from './directory.ts';
import { type AttributeChange, actorLabel, attributeChange, rowFinding } from './directory-change.ts';

const meta: DetectorMeta = {
  id: 'identity/gpo-tampering',
  externalId: 2440,
  tables: ['IdentityDirectoryEvents'],
  title: 'Group Policy Tampering (Preview)',
  severity: 'medium',
  tactics: ['Defense Evasion'],
  techniques: ['T1553'],
  description:
    'A group policy was given a client-side extension often used to run code or weaken security (scheduled tasks, scripts, registry, services, local groups, security settings), or its files were moved.',
};

/** Client-side extensions (MS-GPOL §1.8 CSE GUIDs) that let a policy run code or change security. */
export const abusedExtensions: Readonly<Record<string, string>> = {
  // MS-GPPREF §1.9
  'AADCED64-746C-4633-A97C-D61349046527': 'scheduled tasks (preferences)',
  'B087BE9D-ED37-454F-AF9C-04291E351182': 'registry (preferences)',
  '91FBB303-0CD5-4055-BF42-E512A681B325': 'services (preferences)',
  '17D89FEC-5C44-4972-B12D-241CAEF74509': 'local users and groups (preferences)',
  // MS-GPSCR
  '42B5FAAE-6536-11D2-AE5A-0000F87571E3': 'startup, shutdown, logon and logoff scripts',
  // MS-GPREG: administrative templates, where Defender is turned off
  '35378EAC-683F-11D2-A89A-00C04FBBCFA2': 'registry (administrative templates)',
  // MS-GPSB §1.9: restricted groups and user rights
  '827D319E-6EAC-11D2-A4EA-00C04F79F83A': 'security settings',
  // MS-GPSI
  'C6DC5466-785A-11D2-84D0-00C04FB169F7': 'software installation',
};

const extensionAttributes = new Set(['gpcmachineextensionnames', 'gpcuserextensionnames']);
/** Values replaced but not yet re-added, kept at most. */
const PENDING = 1_000;

function isPolicy(change: AttributeChange): boolean {
  return (
    change.objectClass.toLowerCase() === 'grouppolicycontainer' || /,cn=policies,cn=system,/i.test(change.dn)
  );
}

export const gpoTamperingDetector: IdentityDetector = {
  meta,
  create({ directory }) {
    // A replaced value shows as ValueDeleted (old) then ValueAdded (new): the old value by
    // policy and attribute, until its new one comes.
    const replaced = new Map<string, string>();
    return {
      push(row, _time, event) {
        const change = attributeChange(row);
        if (!change || !isPolicy(change)) return noFindings;
        const key = `${change.dn.toLowerCase()}|${change.attribute}`;
        if (!change.added) {
          replaced.delete(key);
          if (replaced.size >= PENDING) replaced.delete(replaced.keys().next().value ?? '');
          replaced.set(key, change.value);
          return noFindings;
        }
        const old = replaced.get(key);
        replaced.delete(key);
        if (directory.isSensitiveAccount(text(row, 'AccountName'))) return noFindings;
        const policy = `the group policy ${rdnValue(change.dn)}`;
        let what: string;
        if (extensionAttributes.has(change.attribute)) {
          const before = (old ?? '').toUpperCase();
          const now = change.value.toUpperCase();
          const added = Object.entries(abusedExtensions).filter(
            ([guid]) => now.includes(guid) && !before.includes(guid),
          );
          if (added.length === 0) return noFindings;
          what = `added ${added.map(([, name]) => name).join(', ')} to ${policy}`;
        } else if (change.attribute === 'gpcfilesyspath') {
          if (old === undefined || old.toLowerCase() === change.value.toLowerCase()) return noFindings;
          what = `moved the files of ${policy} from ${old} to ${change.value}`;
        } else return noFindings;
        return [rowFinding(row, event, `${actorLabel(row) || 'An account'} ${what}`)];
      },
      get size() {
        return replaced.size;
      },
    };
  },
};
