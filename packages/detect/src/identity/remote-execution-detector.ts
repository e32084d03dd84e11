// 2019 Remote code execution attempt: a source asks a domain controller over the network to run
// a command for it — a service installed or repointed over SVCCTL (PsExec, smbexec, SCShell),
// a job or task scheduled over ATSVC or ITaskSchedulerService (at, atexec.py). Read from the rows
// packets give (they name the source address); a sealed stub still counts, without its command.
import { DirectoryAction, type TableRow } from '@palisade/schema';
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
  id: 'identity/remote-execution',
  externalId: 2019,
  tables: ['IdentityDirectoryEvents'],
  title: 'Remote code execution attempt',
  severity: 'medium',
  tactics: ['Execution', 'Lateral Movement'],
  techniques: ['T1059', 'T1021', 'T1059.001', 'T1021.006'],
  description:
    'A source asked a domain controller over the network to run a command: a service created or repointed, or a task scheduled.',
};

/** What each ActionType asks the server to do, as a phrase. */
const requests: Readonly<Record<string, (row: TableRow) => string>> = {
  [DirectoryAction.serviceCreation]: (r) =>
    named('creating the service', extra(r, 'ServiceName'), 'a service'),
  [DirectoryAction.serviceChanged]: () => 'changing the command of a service',
  [DirectoryAction.taskScheduling]: (r) =>
    named(
      'scheduling the task',
      extra(r, 'TaskName'),
      extra(r, 'Method') === 'NetrJobAdd' ? 'a job' : 'a task',
    ),
};

const named = (what: string, name: string, anonymous: string) =>
  name ? `${what} ${name}` : `${what.split(' ')[0]} ${anonymous}`;

export const remoteExecutionDetector: IdentityDetector = {
  meta,
  create({ directory }) {
    const cooldown = new Cooldown(10 * 60_000);
    return {
      push(row, time, event) {
        if (row.table !== 'IdentityDirectoryEvents') return noFindings;
        const phrase = requests[text(row, 'ActionType')];
        // Only packets name the source; a 7045 or 4697 on its own is the Suspicious service creation detector's.
        const source = text(row, 'IPAddress');
        if (!phrase || !source || directory.isDomainController(source)) return noFindings;
        const target = text(row, 'DestinationDeviceName') || text(row, 'DestinationIPAddress');
        const name = extra(row, 'ServiceName') || extra(row, 'TaskName');
        const key = `${source}|${canonicalHost(target)}|${text(row, 'ActionType')}|${name.toLowerCase()}`;
        if (!cooldown.take(key, time)) return noFindings;
        const account = accountLabel(row);
        const command = extra(row, 'ServiceFileName') || extra(row, 'TaskCommand');
        const how = `${phrase(row)} over ${text(row, 'Protocol').toUpperCase() || 'RPC'} (${extra(row, 'Method')})`;
        const problem = extra(row, 'StubProblem');
        const what = command
          ? `: ${command}`
          : extra(row, 'StubEncrypted') === 'true'
            ? ', sealed: the command is not readable'
            : problem
              ? `; its arguments do not read (${problem})`
              : '';
        return [
          {
            timestamp: text(row, 'Timestamp') || event.timestamp,
            description: `${source}${account ? ` (as ${account})` : ''} tried to run code on ${target || 'a domain controller'} by ${how}${what}`,
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
