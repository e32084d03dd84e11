// Linux audit log lines → the Device rows MDE records for the same activity on Linux: execve →
// DeviceProcessEvents, connect/accept → DeviceNetworkEvents, file creation, change, rename and
// deletion → DeviceFileEvents. Pure and streaming: it is fed lines with their byte offsets (by the
// log follower), groups the records of an event by serial in a bounded buffer, and keeps a bounded
// table of processes it saw start, which fills the InitiatingProcess columns.
import { posix } from 'node:path';
import type { Dynamic, RowValue, TableName, TableRow } from '@palisade/schema';
import { columnsOf } from '@palisade/schema';
import {
  type AuditRecord,
  decimal,
  decodeHex,
  decodeSockaddr,
  decodeText,
  hexArgument,
  parseAuditLine,
  type Sockaddr,
  unsetId,
} from './linux-audit-record.ts';
import { ipType } from './linux-ip-type.ts';
import { passwdFileResolver, type UidResolver } from './linux-passwd.ts';
import {
  atFdCwd,
  auditArches,
  errno,
  type SyscallKind,
  socketcallCalls,
  syscallNumbers,
  syscalls,
} from './linux-syscalls.ts';

export const auditdDiagnosticCodes = [
  'auditd/bad-line',
  'auditd/bad-field',
  'auditd/missing-record',
] as const;
export type AuditdDiagnosticCode = (typeof auditdDiagnosticCodes)[number];

/** A problem with one line or one event; the normaliser goes on with the next. */
export interface AuditdDiagnostic {
  readonly severity: 'error' | 'warning';
  readonly code: AuditdDiagnosticCode;
  readonly message: string;
  /** Byte offset of the line (for an event: of its first line) in the log. */
  readonly offset: number;
  readonly source?: string;
}

export interface AuditdOptions {
  /** DeviceName of the rows (a record's `node=` overrides it). */
  readonly deviceName: string;
  /** User names of numeric ids; default: read /etc/passwd on first use. */
  readonly resolveUid?: UidResolver;
  /** Events buffered at once before the oldest is completed anyway; default 64. */
  readonly maxOpenEvents?: number;
  /** Processes remembered for InitiatingProcess columns; default 4096. */
  readonly maxProcesses?: number;
  /** Event ids (`resumePoint().emitted`) already turned into rows before a restart. */
  readonly skip?: Iterable<string>;
  /** The log's name, for diagnostics. */
  readonly source?: string;
}

export interface AuditdOutput {
  readonly rows: TableRow[];
  readonly diagnostics: AuditdDiagnostic[];
}

/** Where to resume reading so that no buffered record is lost, and the events after it already sent. */
export interface AuditdResumePoint {
  /** The offset of the first line of the oldest buffered event; undefined when none is buffered. */
  readonly offset: number | undefined;
  /** Ids of events at or after `offset` that already made rows: pass them as `skip`. */
  readonly emitted: readonly string[];
}

interface OpenEvent {
  readonly id: string;
  readonly offset: number;
  readonly records: AuditRecord[];
}

/** What is remembered of a process that was seen starting. */
interface KnownProcess {
  readonly fileName: string;
  readonly folderPath: string;
  readonly commandLine: string;
  readonly creationTime: string;
  readonly accountName: string | undefined;
  readonly parentId: number | undefined;
}

/** User-space messages are one record per event: they are complete as soon as they are read. */
const standaloneTypes =
  /^(USER_|CRED_|SERVICE_|DAEMON_|SYSTEM_|ANOM_LOGIN|ADD_|DEL_|GRP_|CHUSER_ID|CHGRP_ID)/;

/** The kernel ends a syscall event with PROCTITLE (then EOE, which auditd does not write to the log). */
const lastTypes = new Set(['PROCTITLE', 'EOE']);

/**
 * Turns audit log lines into Device rows. A successful execve is ProcessCreated (AccountName: the
 * effective user; InitiatingProcess: the parent as seen starting). connect is ConnectionSuccess,
 * ConnectionAttempt (non-blocking, EINPROGRESS) or ConnectionFailed; a successful accept is
 * InboundConnectionAccepted; only IPv4/IPv6 peers make rows. File rows come from PATH names of
 * regular files: CREATE → FileCreated, a written NORMAL open → FileModified, DELETE → FileDeleted,
 * rename's DELETE and CREATE → FileRenamed. Records that make no row are read and dropped.
 *
 * @example
 * const n = new AuditdNormaliser({ deviceName: 'web-01' });
 * const { rows, diagnostics } = n.push('type=SYSCALL msg=audit(1700000000.123:456): …', 0);
 * // … at the end of the input:
 * n.flush();
 */
export class AuditdNormaliser {
  readonly #options: AuditdOptions;
  readonly #resolveUid: UidResolver;
  readonly #maxOpen: number;
  readonly #maxProcesses: number;
  readonly #open = new Map<string, OpenEvent>();
  readonly #processes = new Map<number, KnownProcess>();
  /** Socket protocol by `pid:fd`, from audited socket() and accept() calls. */
  readonly #sockets = new Map<string, 'Tcp' | 'Udp'>();
  readonly #skip: Set<string>;
  #emitted: { id: string; offset: number }[] = [];

  constructor(options: AuditdOptions) {
    this.#options = options;
    this.#resolveUid = options.resolveUid ?? passwdFileResolver();
    this.#maxOpen = options.maxOpenEvents ?? 64;
    this.#maxProcesses = options.maxProcesses ?? 4096;
    this.#skip = new Set(options.skip ?? []);
  }

  /** Reads one line (without its newline) that starts at byte `offset`; returns what it completed. */
  push(line: string, offset: number): AuditdOutput {
    const out: AuditdOutput = { rows: [], diagnostics: [] };
    if (line.trim() === '') return out;
    const parsed = parseAuditLine(line);
    if (!parsed.ok) {
      out.diagnostics.push(
        this.#diagnostic(
          'error',
          'auditd/bad-line',
          offset,
          `expected ${parsed.expected}, found ${parsed.found}`,
        ),
      );
      return out;
    }
    const record = parsed.record;
    const id = `${record.node === undefined ? '' : `${record.node}/`}${record.seconds}.${String(record.millis).padStart(3, '0')}:${record.serial}`;
    let event = this.#open.get(id);
    if (!event) {
      event = { id, offset, records: [] };
      this.#open.set(id, event);
    }
    event.records.push(record);
    if (lastTypes.has(record.type) || (event.records.length === 1 && standaloneTypes.test(record.type))) {
      this.#complete(event, out);
    }
    while (this.#open.size > this.#maxOpen) {
      const oldest = this.#open.values().next().value;
      if (!oldest) break;
      this.#complete(oldest, out);
    }
    return out;
  }

  /** Completes every buffered event (at the end of the input, or when the log was rotated away). */
  flush(): AuditdOutput {
    const out: AuditdOutput = { rows: [], diagnostics: [] };
    for (const event of [...this.#open.values()]) this.#complete(event, out);
    return out;
  }

  /** Where a restart should resume; see `AuditdResumePoint`. */
  resumePoint(): AuditdResumePoint {
    const oldest = this.#open.values().next().value;
    return { offset: oldest?.offset, emitted: this.#emitted.map((e) => e.id) };
  }

  #complete(event: OpenEvent, out: AuditdOutput): void {
    this.#open.delete(event.id);
    const oldest = this.#open.values().next().value;
    this.#emitted = oldest ? this.#emitted.filter((e) => e.offset >= oldest.offset) : [];
    if (this.#skip.delete(event.id)) return;
    if (oldest && event.offset >= oldest.offset) this.#emitted.push({ id: event.id, offset: event.offset });
    this.#eventRows(event, out);
  }

  #diagnostic(
    severity: AuditdDiagnostic['severity'],
    code: AuditdDiagnosticCode,
    offset: number,
    message: string,
  ): AuditdDiagnostic {
    const source = this.#options.source;
    return {
      severity,
      code,
      message: `${message} at offset ${offset}`,
      offset,
      ...(source ? { source } : {}),
    };
  }

  #eventRows(event: OpenEvent, out: AuditdOutput): void {
    const syscall = event.records.find((r) => r.type === 'SYSCALL');
    if (!syscall) return;
    const call = syscallOf(syscall);
    const spec = call && syscalls[call.name];
    if (!call || !spec) return;
    const ctx = this.#context(event, syscall, call);
    const handlers: Record<SyscallKind, () => void> = {
      exec: () => this.#exec(ctx, out),
      socket: () => this.#socket(ctx),
      connect: () => this.#network(ctx, 'connect', out),
      accept: () => this.#network(ctx, 'accept', out),
      open: () => this.#file(ctx, 'open', spec.flagsArg, out),
      creat: () => this.#file(ctx, 'creat', undefined, out),
      unlink: () => this.#file(ctx, 'unlink', undefined, out),
      rename: () => this.#file(ctx, 'rename', undefined, out),
    };
    handlers[spec.kind]();
  }

  #context(event: OpenEvent, syscall: AuditRecord, call: SyscallOf): EventContext {
    const f = syscall.fields;
    const cwd = decodeText(event.records.find((r) => r.type === 'CWD')?.fields.get('cwd'));
    const account = (field: 'uid' | 'euid' | 'auid'): string | undefined => {
      const id = decimal(f.get(field));
      if (id === undefined || id === unsetId) return undefined;
      const enriched = syscall.enriched.get(field.toUpperCase());
      if (enriched && enriched !== 'unset' && !enriched.startsWith('unknown(')) return enriched;
      return this.#resolveUid(id);
    };
    const ses = decimal(f.get('ses'));
    const proctitle = event.records.find((r) => r.type === 'PROCTITLE')?.fields.get('proctitle');
    return {
      event,
      syscall,
      name: call.name,
      viaSocketcall: call.viaSocketcall,
      args: ['a0', 'a1', 'a2', 'a3'].map((a) => f.get(a)),
      success: f.get('success') === 'yes',
      exit: decimal(f.get('exit')),
      pid: decimal(f.get('pid')),
      ppid: decimal(f.get('ppid')),
      exe: decodeText(f.get('exe')),
      cwd,
      timestamp: new Date(syscall.seconds * 1000 + syscall.millis).toISOString(),
      deviceName: syscall.node ?? this.#options.deviceName,
      accountName: account('euid'),
      realAccountName: account('uid'),
      proctitle: proctitle === undefined ? undefined : commandLine(splitProctitle(proctitle)),
      paths: event.records
        .filter((r) => r.type === 'PATH')
        .map((r) => ({
          name: decodeText(r.fields.get('name')),
          nametype: r.fields.get('nametype'),
          mode: r.fields.get('mode'),
        })),
      additional: {
        Syscall: call.name,
        AuditKey: auditKey(f.get('key')),
        Uid: decimal(f.get('uid')),
        Euid: decimal(f.get('euid')),
        AuditLoginUid: decimal(f.get('auid')),
        AuditLoginName: account('auid'),
        AuditSession: ses === unsetId ? undefined : ses,
        Tty: f.get('tty') === '(none)' ? undefined : f.get('tty'),
      },
    };
  }

  /** The acting process's columns (network and file rows): the process itself is the initiator. */
  #initiatingProcess(ctx: EventContext): Record<string, RowValue | undefined> {
    const known = ctx.pid === undefined ? undefined : this.#processes.get(ctx.pid);
    // a remembered process counts only while it still runs the same image (pids are reused)
    const same = known && known.folderPath === ctx.exe ? known : undefined;
    const parent = ctx.ppid === undefined ? undefined : this.#processes.get(ctx.ppid);
    return {
      InitiatingProcessId: ctx.pid,
      InitiatingProcessFileName: ctx.exe === undefined ? undefined : posix.basename(ctx.exe),
      InitiatingProcessFolderPath: ctx.exe,
      // PROCTITLE can predate an exec (the kernel keeps it per task), so a seen execve wins
      InitiatingProcessCommandLine: same?.commandLine ?? ctx.proctitle,
      InitiatingProcessCreationTime: same?.creationTime,
      InitiatingProcessParentId: ctx.ppid,
      InitiatingProcessParentFileName: parent?.fileName,
      InitiatingProcessAccountName: ctx.accountName,
    };
  }

  #exec(ctx: EventContext, out: AuditdOutput): void {
    if (!ctx.success || ctx.pid === undefined) return;
    const execve = ctx.event.records.filter((r) => r.type === 'EXECVE');
    let argv = readExecveArgs(execve);
    if (argv === undefined) {
      out.diagnostics.push(
        this.#diagnostic(
          'warning',
          'auditd/missing-record',
          ctx.event.offset,
          `expected the EXECVE record of event ${ctx.event.id}, found none or incomplete arguments; using PROCTITLE`,
        ),
      );
      argv = [];
    }
    const image = ctx.exe ?? resolvePath(ctx.cwd, ctx.paths[0]?.name);
    const fileName = image === undefined ? undefined : posix.basename(image);
    const command = argv.length > 0 ? commandLine(argv) : ctx.proctitle;
    const parent = ctx.ppid === undefined ? undefined : this.#processes.get(ctx.ppid);
    const grandparentId = parent?.parentId;
    const grandparent = grandparentId === undefined ? undefined : this.#processes.get(grandparentId);
    out.rows.push(
      row(
        'DeviceProcessEvents',
        {
          Timestamp: ctx.timestamp,
          DeviceName: ctx.deviceName,
          ActionType: 'ProcessCreated',
          FileName: fileName,
          FolderPath: image,
          ProcessId: ctx.pid,
          ProcessCommandLine: command,
          ProcessCreationTime: ctx.timestamp,
          AccountName: ctx.accountName,
          LogonId: ctx.additional.AuditSession,
          InitiatingProcessId: ctx.ppid,
          InitiatingProcessFileName: parent?.fileName,
          InitiatingProcessFolderPath: parent?.folderPath,
          InitiatingProcessCommandLine: parent?.commandLine,
          InitiatingProcessCreationTime: parent?.creationTime,
          InitiatingProcessParentId: grandparentId,
          InitiatingProcessParentFileName: grandparent?.fileName,
          // the parent's account as seen when it started, else the real uid the exec kept
          InitiatingProcessAccountName: parent?.accountName ?? ctx.realAccountName,
          InitiatingProcessLogonId: ctx.additional.AuditSession,
          ReportId: ctx.syscall.serial,
        },
        { ...ctx.additional, ProcessCurrentDirectory: ctx.cwd },
      ),
    );
    if (image !== undefined && fileName !== undefined) {
      this.#remember(ctx.pid, {
        fileName,
        folderPath: image,
        commandLine: command ?? '',
        creationTime: ctx.timestamp,
        accountName: ctx.accountName,
        parentId: ctx.ppid,
      });
    }
  }

  #remember(pid: number, process: KnownProcess): void {
    this.#processes.delete(pid);
    this.#processes.set(pid, process);
    while (this.#processes.size > this.#maxProcesses) {
      const oldest = this.#processes.keys().next().value;
      if (oldest === undefined) break;
      this.#processes.delete(oldest);
    }
  }

  #rememberSocket(pid: number | undefined, fd: number | undefined, protocol: 'Tcp' | 'Udp'): void {
    if (pid === undefined || fd === undefined || fd < 0) return;
    const key = `${pid}:${fd}`;
    this.#sockets.delete(key);
    this.#sockets.set(key, protocol);
    while (this.#sockets.size > this.#maxProcesses) {
      const oldest = this.#sockets.keys().next().value;
      if (oldest === undefined) break;
      this.#sockets.delete(oldest);
    }
  }

  #socket(ctx: EventContext): void {
    if (!ctx.success || ctx.viaSocketcall) return;
    const family = hexArgument(ctx.args[0]);
    const type = (hexArgument(ctx.args[1]) ?? 0) & 0xf; // the low bits; the rest are SOCK_NONBLOCK/CLOEXEC
    const protocol = type === 1 ? 'Tcp' : type === 2 ? 'Udp' : undefined;
    if ((family === 2 || family === 10) && protocol) this.#rememberSocket(ctx.pid, ctx.exit, protocol);
  }

  #network(ctx: EventContext, kind: 'connect' | 'accept', out: AuditdOutput): void {
    const raw = ctx.event.records.find((r) => r.type === 'SOCKADDR')?.fields.get('saddr');
    if (raw === undefined) return;
    const address: Sockaddr | undefined = decodeSockaddr(raw);
    if (!address) {
      out.diagnostics.push(
        this.#diagnostic(
          'error',
          'auditd/bad-field',
          ctx.event.offset,
          `expected a hexadecimal socket address in SOCKADDR saddr of event ${ctx.event.id}, found ${JSON.stringify(raw.slice(0, 40))}`,
        ),
      );
      return;
    }
    if (address.family !== 'inet' && address.family !== 'inet6') return;
    let actionType: string;
    let protocol: 'Tcp' | 'Udp' | undefined;
    if (kind === 'accept') {
      if (!ctx.success) return;
      actionType = 'InboundConnectionAccepted';
      protocol = 'Tcp';
      if (!ctx.viaSocketcall) this.#rememberSocket(ctx.pid, ctx.exit, 'Tcp');
    } else {
      actionType = ctx.success
        ? 'ConnectionSuccess'
        : ctx.exit === -errno.EINPROGRESS
          ? 'ConnectionAttempt'
          : 'ConnectionFailed';
      // socketcall passes its arguments in memory the record does not show
      const fd = ctx.viaSocketcall ? undefined : hexArgument(ctx.args[0]);
      protocol = fd === undefined ? undefined : this.#sockets.get(`${ctx.pid}:${fd}`);
    }
    out.rows.push(
      row(
        'DeviceNetworkEvents',
        {
          Timestamp: ctx.timestamp,
          DeviceName: ctx.deviceName,
          ActionType: actionType,
          RemoteIP: address.address,
          RemotePort: address.port,
          RemoteIPType: ipType(address.address),
          Protocol: protocol,
          ...this.#initiatingProcess(ctx),
          ReportId: ctx.syscall.serial,
        },
        { ...ctx.additional, Exit: ctx.success ? undefined : ctx.exit },
      ),
    );
  }

  #file(
    ctx: EventContext,
    kind: 'open' | 'creat' | 'unlink' | 'rename',
    flagsArg: number | undefined,
    out: AuditdOutput,
  ): void {
    if (!ctx.success) return;
    const dirfd = syscalls[ctx.name]?.dirfdArg;
    const relativeToCwd = dirfd === undefined || ctx.args[dirfd] === atFdCwd;
    const full = (name: string | undefined) =>
      relativeToCwd || name?.startsWith('/') ? resolvePath(ctx.cwd, name) : undefined;
    const regular = ctx.paths.filter((p) => isRegularOrUnknown(p.mode));
    const created = regular.find((p) => p.nametype === 'CREATE');
    const deleted = regular.find((p) => p.nametype === 'DELETE');
    let actionType: string | undefined;
    let target: string | undefined;
    let previous: string | undefined;
    if (kind === 'open' || kind === 'creat') {
      const flags = flagsArg === undefined ? undefined : hexArgument(ctx.args[flagsArg]);
      // O_ACCMODE (3) other than O_RDONLY, or O_TRUNC (0o1000): the file is written
      const writes =
        kind === 'creat' || (flags !== undefined && ((flags & 3) !== 0 || (flags & 0o1000) !== 0));
      const normal = regular.find((p) => p.nametype === 'NORMAL');
      if (created) [actionType, target] = ['FileCreated', created.name];
      else if (writes && normal && isRegular(normal.mode))
        [actionType, target] = ['FileModified', normal.name];
    } else if (kind === 'unlink' && deleted) {
      [actionType, target] = ['FileDeleted', deleted.name];
    } else if (kind === 'rename' && created && deleted) {
      [actionType, target, previous] = ['FileRenamed', created.name, deleted.name];
    }
    if (actionType === undefined || target === undefined) return;
    // a name relative to a directory descriptor has no known folder: FileName only
    const path = full(target);
    const previousPath = full(previous);
    out.rows.push(
      row(
        'DeviceFileEvents',
        {
          Timestamp: ctx.timestamp,
          DeviceName: ctx.deviceName,
          ActionType: actionType,
          FileName: posix.basename(target),
          FolderPath: path,
          PreviousFileName: previous === undefined ? undefined : posix.basename(previous),
          PreviousFolderPath: previousPath,
          ...this.#initiatingProcess(ctx),
          ReportId: ctx.syscall.serial,
        },
        ctx.additional,
      ),
    );
  }
}

interface EventContext {
  readonly event: OpenEvent;
  readonly syscall: AuditRecord;
  readonly name: string;
  readonly viaSocketcall: boolean;
  readonly args: readonly (string | undefined)[];
  readonly success: boolean;
  readonly exit: number | undefined;
  readonly pid: number | undefined;
  readonly ppid: number | undefined;
  readonly exe: string | undefined;
  readonly cwd: string | undefined;
  readonly timestamp: string;
  readonly deviceName: string;
  /** The effective user's name: whose rights the process used. */
  readonly accountName: string | undefined;
  /** The real user's name. */
  readonly realAccountName: string | undefined;
  readonly proctitle: string | undefined;
  readonly paths: readonly {
    name?: string | undefined;
    nametype?: string | undefined;
    mode?: string | undefined;
  }[];
  /** AdditionalFields every row of the event carries. */
  readonly additional: Readonly<Record<string, Dynamic | undefined>> & {
    readonly AuditSession: number | undefined;
  };
}

interface SyscallOf {
  readonly name: string;
  /** An i386 socket call made through socketcall(2). */
  readonly viaSocketcall: boolean;
}

/** The syscall's name: the ENRICHED name, else the number looked up for the record's architecture. */
function syscallOf(record: AuditRecord): SyscallOf | undefined {
  const f = record.fields;
  const arch = auditArches[(f.get('arch') ?? '') as keyof typeof auditArches];
  const number = decimal(f.get('syscall'));
  const name =
    record.enriched.get('SYSCALL') ??
    (arch && number !== undefined ? syscallNumbers[arch][number] : undefined);
  if (name === undefined) return undefined;
  if (name !== 'socketcall') return { name, viaSocketcall: false };
  const call = socketcallCalls[hexArgument(f.get('a0')) ?? -1];
  return call === undefined ? undefined : { name: call, viaSocketcall: true };
}

/** The audit rule keys (`key="exec"`; several keys are hex-joined with 0x01). */
function auditKey(raw: string | undefined): Dynamic | undefined {
  const text = decodeText(raw);
  if (text === undefined) return undefined;
  const keys = text.split('\x01');
  return keys.length === 1 ? text : keys;
}

/**
 * The arguments of EXECVE records: `argc=N a0=… a1=…`, an argument longer than the kernel's
 * record limit as `aN_len=L aN[0]=… aN[1]=…` (hex chunks), possibly over several records.
 * Undefined when a record is missing or an argument is absent.
 */
export function readExecveArgs(records: readonly AuditRecord[]): string[] | undefined {
  const argc = decimal(records[0]?.fields.get('argc'));
  if (argc === undefined) return undefined;
  const chunks = new Map<number, Uint8Array[]>();
  const lengths = new Map<number, number>();
  for (const record of records) {
    for (const [key, value] of record.fields) {
      const m = /^a(\d+)(?:_len|\[(\d+)\])?$/.exec(key);
      if (!m) continue;
      const index = Number(m[1]);
      if (key.endsWith('_len')) {
        lengths.set(index, Number(value));
        continue;
      }
      const bytes = argumentBytes(value);
      if (!bytes) return undefined;
      let list = chunks.get(index);
      if (!list) chunks.set(index, (list = []));
      list[m[2] === undefined ? 0 : Number(m[2])] = bytes;
    }
  }
  const argv: string[] = [];
  for (let i = 0; i < argc; i++) {
    const list = chunks.get(i) ?? [];
    const parts: Uint8Array[] = [];
    // a lost record leaves a hole in the chunks (Array.some would skip it)
    for (let k = 0; k < list.length; k++) {
      const part = list[k];
      if (!part) return undefined;
      parts.push(part);
    }
    const bytes = Buffer.concat(parts);
    // aN_len counts the argument as written: two hex digits a byte, or the quoted text's bytes
    const written = lengths.get(i);
    if (
      parts.length === 0 ||
      (written !== undefined && written !== bytes.length * 2 && written !== bytes.length)
    ) {
      return undefined;
    }
    argv.push(new TextDecoder().decode(bytes));
  }
  return argv;
}

function argumentBytes(raw: string): Uint8Array | undefined {
  if (raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"'))
    return new TextEncoder().encode(raw.slice(1, -1));
  return decodeHex(raw);
}

/** PROCTITLE's argv: NUL-separated in hex, or one quoted word. */
function splitProctitle(raw: string): string[] {
  if (raw.startsWith('"')) return [raw.slice(1, -1)];
  const bytes = decodeHex(raw);
  if (!bytes) return [raw];
  return new TextDecoder()
    .decode(bytes)
    .split('\0')
    .filter((a, i, all) => a !== '' || i < all.length - 1);
}

/**
 * argv as one command line: arguments joined by spaces, an argument that is empty or holds
 * whitespace or a double quote written in double quotes with `"` and `\` escaped.
 */
export function commandLine(argv: readonly string[]): string {
  return argv.map((a) => (a === '' || /[\s"]/.test(a) ? `"${a.replace(/["\\]/g, '\\$&')}"` : a)).join(' ');
}

function resolvePath(cwd: string | undefined, name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  if (name.startsWith('/')) return posix.normalize(name);
  return cwd?.startsWith('/') ? posix.join(cwd, name) : name;
}

// File type bits of st_mode (inode(7)), as the PATH record writes them in octal.
const modeType = 0o170000;
const modeRegular = 0o100000;

function isRegular(mode: string | undefined): boolean {
  return mode !== undefined && /^[0-7]+$/.test(mode) && (Number.parseInt(mode, 8) & modeType) === modeRegular;
}

/** Created and deleted names carry the inode's mode; when it is missing the file is assumed regular. */
function isRegularOrUnknown(mode: string | undefined): boolean {
  return mode === undefined || isRegular(mode);
}

/** A Device row: values the table has columns for, the rest as AdditionalFields JSON text. */
function row(
  table: TableName,
  values: Readonly<Record<string, RowValue | undefined>>,
  additional: Readonly<Record<string, Dynamic | undefined>>,
): TableRow {
  const columns = columnsOf(table);
  const out: Record<string, RowValue> = {};
  const extra: Record<string, Dynamic> = {};
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined) continue;
    if (columns.has(k)) out[k] = v;
    else extra[k] = v;
  }
  for (const [k, v] of Object.entries(additional)) if (v !== undefined) extra[k] = v;
  if (Object.keys(extra).length > 0) out.AdditionalFields = JSON.stringify(extra);
  return { table, values: out };
}

/**
 * Normalises a whole audit log text (tests, one-off imports): every line, then the buffered rest.
 *
 * @example
 * const { rows } = normaliseAuditLog(readFileSync('audit.log', 'utf8'), { deviceName: 'web-01' });
 */
export function normaliseAuditLog(text: string, options: AuditdOptions): AuditdOutput {
  const normaliser = new AuditdNormaliser(options);
  const rows: TableRow[] = [];
  const diagnostics: AuditdDiagnostic[] = [];
  let offset = 0;
  for (const line of text.split('\n')) {
    const out = normaliser.push(line, offset);
    rows.push(...out.rows);
    diagnostics.push(...out.diagnostics);
    offset += Buffer.byteLength(line) + 1;
  }
  const rest = normaliser.flush();
  return { rows: [...rows, ...rest.rows], diagnostics: [...diagnostics, ...rest.diagnostics] };
}
