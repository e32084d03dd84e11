// 2026 Suspicious service creation: a service installed on a domain controller (7045, 4697) whose
// binary path looks like remote execution or privilege escalation — shells, encoded PowerShell,
// script hosts, admin shares, loopback SMB, named pipes, random names. At the Low level (and in
// test mode) any device counts, for logs collected beyond the DCs. A service created over SVCCTL
// as seen on the wire is 2019's (remote code execution attempt): there the row's DeviceName is the
// client, and the service is requested, not installed.
import { DirectoryAction } from '@palisade/schema';
import { type DetectorMeta, extra, type IdentityDetector, noFindings, text } from './detector.ts';
import { canonicalHost } from './directory.ts';
import { actorLabel, rowFinding } from './directory-change.ts';
import { Cooldown } from './windows.ts';

const meta: DetectorMeta = {
  id: 'identity/suspicious-service',
  externalId: 2026,
  tables: ['IdentityDirectoryEvents'],
  title: 'Suspicious service creation',
  severity: 'medium',
  tactics: ['Execution', 'Persistence', 'Privilege Escalation', 'Defense Evasion', 'Lateral Movement'],
  techniques: ['T1021', 'T1059', 'T1569', 'T1543', 'T1569.002', 'T1543.003'],
  description:
    'A service whose command line looks like remote execution or privilege escalation was created on a domain controller.',
  // anyDevice: 1 looks at services created on every device, not only on domain controllers.
  thresholds: { high: { anyDevice: 0 }, medium: { anyDevice: 0 }, low: { anyDevice: 1 } },
};

/** What makes a service suspicious: a test of the binary path or the service name, and why. */
export const suspiciousServicePatterns: readonly {
  readonly field: 'binary' | 'name';
  readonly pattern: RegExp;
  readonly reason: string;
}[] = [
  { field: 'binary', pattern: /%comspec%|\bcmd(\.exe)?\b/i, reason: 'runs a command shell' },
  { field: 'binary', pattern: /\b(powershell|pwsh)(\.exe)?\b/i, reason: 'runs PowerShell' },
  {
    field: 'binary',
    pattern: /\s[-/](e|ec|en|enc|enco|encodedcommand|nop|noprofile|w\s+hidden|windowstyle\s+hidden)\b/i,
    reason: 'passes hidden or encoded command-line flags',
  },
  {
    field: 'binary',
    pattern: /\b(rundll32|regsvr32|mshta|wscript|cscript|certutil|bitsadmin|msiexec)(\.exe)?\b/i,
    reason: 'runs a script host or system binary used to launch payloads',
  },
  { field: 'binary', pattern: /\\\\[^\\]+\\(admin|[a-z])\$/i, reason: 'runs from an administrative share' },
  {
    field: 'binary',
    pattern: /\\\\(127\.0\.0\.1|localhost|\[?::1\]?)\\/i,
    reason: 'loops back to itself over SMB',
  },
  { field: 'binary', pattern: /\\\\\.\\pipe\\/i, reason: 'writes to a named pipe (token impersonation)' },
  { field: 'binary', pattern: /\becho\b.*>/i, reason: 'echoes a command into a file or pipe (smbexec)' },
  {
    field: 'binary',
    pattern:
      /%temp%|%tmp%|\\windows\\temp\\|\\appdata\\|\\users\\public\\|\\programdata\\[^\\]+\.(exe|dll|bat|ps1)/i,
    reason: 'runs from a temporary or user-writable folder',
  },
  {
    field: 'binary',
    pattern: /^"?(%systemroot%|%windir%|c:\\windows)\\[a-z]{8}\.exe"?$/i,
    reason: 'runs a randomly named binary in the Windows folder (Impacket or Metasploit psexec)',
  },
  {
    field: 'name',
    pattern: /^(psexesvc|paexec.*|remcomsvc|csexecsvc|btobto)$/i,
    reason: 'has the name of a remote-execution tool',
  },
];

export const serviceCreationDetector: IdentityDetector = {
  meta,
  create({ thresholds, directory }) {
    const cooldown = new Cooldown(10 * 60_000);
    return {
      push(row, time, event) {
        if (
          row.table !== 'IdentityDirectoryEvents' ||
          text(row, 'ActionType') !== DirectoryAction.serviceCreation ||
          extra(row, 'Source') === 'network'
        )
          return noFindings;
        const device = text(row, 'DeviceName');
        if (!thresholds.anyDevice && !directory.isDomainController(device)) return noFindings;
        const name = extra(row, 'ServiceName');
        const binary = extra(row, 'ServiceFileName');
        const reasons = suspiciousServicePatterns
          .filter((p) => p.pattern.test(p.field === 'name' ? name : binary))
          .map((p) => p.reason);
        if (reasons.length === 0) return noFindings;
        // 7045 and 4697 both record one installation.
        if (!cooldown.take(`${canonicalHost(device)}|${name.toLowerCase()}`, time)) return noFindings;
        const runAs = extra(row, 'ServiceAccount');
        return [
          rowFinding(
            row,
            event,
            `${actorLabel(row) || 'An account'} created the service ${name} on ${device || 'a device'}${runAs ? ` running as ${runAs}` : ''}: ${binary} — it ${reasons.join('; ')}`,
            { devices: [device] },
          ),
        ];
      },
      get size() {
        return cooldown.size;
      },
    };
  },
};
