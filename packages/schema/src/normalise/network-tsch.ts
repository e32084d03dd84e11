// Scheduled-task requests seen on the wire (MS-TSCH over \PIPE\atsvc or TCP): ATSVC NetrJobAdd
// (`at`) and ITaskSchedulerService SchRpcRegisterTask (schtasks /s, atexec.py), with the task's
// name and the command it runs where the stub is readable.
import type { DcerpcCall } from '@palisade/protocols';
import { readStub } from './network-ndr.ts';

export const ATSVC_UUID = '1ff70682-0a51-30e8-076d-740be8cee98b';
export const TASK_SCHEDULER_UUID = '86d35949-83c9-4044-b424-db363231fd0c';

const NETR_JOB_ADD = 0;
const SCH_RPC_REGISTER_TASK = 1;

export interface TaskRequest {
  readonly method: string;
  /** The task's path (SchRpcRegisterTask); jobs have no name. */
  readonly taskName?: string | undefined;
  /** The command line: the job's Command, or the task's Exec actions (Command and Arguments). */
  readonly command?: string | undefined;
  readonly problem?: string | undefined;
}

/** What a task-registering request asks for, or undefined for other calls of these interfaces. */
export function taskRequest(call: DcerpcCall, uuid: string): TaskRequest | undefined {
  if (call.type !== 'request') return undefined;
  const job = uuid === ATSVC_UUID && call.opnum === NETR_JOB_ADD;
  const task = uuid === TASK_SCHEDULER_UUID && call.opnum === SCH_RPC_REGISTER_TASK;
  if (!job && !task) return undefined;
  const method = call.opnumName ?? (job ? 'NetrJobAdd' : 'SchRpcRegisterTask');
  if (call.stubEncrypted) return { method };
  const { value, problem } = readStub<TaskRequest>(call.stub, (r, out) => {
    if (job) {
      // MS-TSCH §3.2.5.2.1: [in, string, unique] ATSVC_HANDLE ServerName, [in] LPAT_INFO pAtInfo:
      // { DWORD_PTR JobTime; DWORD DaysOfMonth; UCHAR DaysOfWeek; UCHAR Flags; [string] WCHAR*
      // Command } — the Command pointer's string follows the structure (NDR defers it).
      r.uniqueString('ServerName');
      r.alignPointerStruct();
      r.wide('JobTime');
      r.u32('DaysOfMonth');
      r.u8('DaysOfWeek');
      r.u8('Flags');
      if (r.pointer('Command')) out.command = r.string('Command');
    } else {
      // MS-TSCH §3.2.5.4.2: [in, string, unique] const wchar_t* path, [in, string] const wchar_t* xml, …
      out.taskName = r.uniqueString('path');
      out.command = execCommands(r.string('xml'));
    }
  });
  return { ...value, method, problem };
}

const entities = new Map([
  ['lt', '<'],
  ['gt', '>'],
  ['amp', '&'],
  ['quot', '"'],
  ['apos', "'"],
]);

/** The Exec actions of a task definition (MS-TSCH §2.5.9), `Command Arguments`, joined by `; `. */
export function execCommands(xml: string): string | undefined {
  const commands: string[] = [];
  // indexOf rather than one regular expression: linear in the length of a hostile definition.
  for (let from = 0; ; ) {
    const start = xml.indexOf('<Exec>', from);
    const end = start < 0 ? -1 : xml.indexOf('</Exec>', start);
    if (end < 0) break;
    const body = xml.slice(start, end);
    from = end + 7;
    const command = element(body, 'Command');
    const args = element(body, 'Arguments');
    if (command) commands.push(args ? `${command} ${args}` : command);
  }
  return commands.length ? commands.join('; ') : undefined;
}

/** The text of the first `<name>…</name>` in `xml`, with XML's entity references resolved. */
function element(xml: string, name: string): string {
  const start = xml.indexOf(`<${name}>`);
  const end = start < 0 ? -1 : xml.indexOf(`</${name}>`, start);
  if (end < 0) return '';
  return xml
    .slice(start + name.length + 2, end)
    .trim()
    .replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,4});/gi, (whole, e: string) => {
      if (!e.startsWith('#')) return entities.get(e) ?? whole;
      const n = e[1] === 'x' || e[1] === 'X' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1));
      return n <= 0x10ffff ? String.fromCodePoint(n) : whole;
    });
}
