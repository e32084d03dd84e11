// Live capture through tcpdump as a child process: `tcpdump -w -` writes classic pcap to a pipe,
// read into frames by CaptureStreamReader; its stderr says when it listens, why it failed, and
// its packet and drop counters, which SIGUSR1 makes it print while it runs.
import { type ChildProcess, spawn } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import type { OnCaptureDiagnostic } from './capture-diagnostics.ts';
import type { CapturedFrame } from './capture-frame.ts';
import { CaptureStreamReader, MAX_STREAM_RECORD } from './capture-stream.ts';

/**
 * A domain controller's services the default capture filter keeps (TCP and UDP on each port).
 * The RPC interfaces with dynamic endpoints (DRSUAPI, Netlogon, LSA, SAM-R over TCP) are added
 * by address, see `dcCaptureFilter`.
 */
export const dcServicePorts = [
  { service: 'DNS', ports: '53' },
  { service: 'Kerberos', ports: '88' },
  { service: 'RPC endpoint mapper', ports: '135' },
  { service: 'NetBIOS name, datagram and session services', ports: '137-139' },
  { service: 'LDAP (and CLDAP over UDP)', ports: '389' },
  { service: 'SMB', ports: '445' },
  { service: 'Kerberos password change (kpasswd)', ports: '464' },
  { service: 'LDAPS', ports: '636' },
  { service: 'Global catalog', ports: '3268' },
  { service: 'Global catalog over TLS', ports: '3269' },
] as const;

/** Windows' (and Samba's) range for dynamic RPC endpoints (MS-RPCE over ncacn_ip_tcp). */
export const DYNAMIC_RPC_PORTS = '49152-65535';

/**
 * The BPF filter for a domain controller's traffic: its service ports, the non-first fragments
 * of IP datagrams (a port filter cannot see their ports, and a large Kerberos or CLDAP answer
 * over UDP comes in several), and, for each of the DC's addresses, TCP to or from a dynamic RPC
 * port on that address. Without addresses the dynamic ports are left out: matching them for every
 * host would keep any client's ephemeral-port traffic, which is nearly everything. With them, the
 * connections the DC itself opens from its ephemeral ports (replication with other DCs, lookups)
 * are kept too; BPF cannot tell which side opened a connection.
 * @example dcCaptureFilter(['10.0.0.10']) // 'port 53 or port 88 or … or (tcp dst portrange 49152-65535 and dst host 10.0.0.10) or …'
 */
export function dcCaptureFilter(dcAddresses: readonly string[] = []): string {
  const clauses: string[] = dcServicePorts.map((s) =>
    s.ports.includes('-') ? `portrange ${s.ports}` : `port ${s.ports}`,
  );
  clauses.push('(ip[6:2] & 0x1fff != 0)', '(ip6 and ip6[6] == 44)');
  for (const address of dcAddresses) {
    clauses.push(
      `(tcp dst portrange ${DYNAMIC_RPC_PORTS} and dst host ${address})`,
      `(tcp src portrange ${DYNAMIC_RPC_PORTS} and src host ${address})`,
    );
  }
  return clauses.join(' or ');
}

/**
 * The addresses of a network interface of this host, for `dcCaptureFilter` when the capture runs
 * on the DC itself; IPv6 link-local addresses are left out. Empty when there is no such interface
 * in this process's network namespace (or for `any`).
 */
export function interfaceAddresses(name: string): string[] {
  return (networkInterfaces()[name] ?? [])
    .filter((a) => a.family === 'IPv4' || !/^fe[89ab]/i.test(a.address))
    .map((a) => a.address);
}

/** tcpdump's packet counters, as it prints them on SIGUSR1 and when it exits. */
export interface TcpdumpCounters {
  /** Packets tcpdump wrote out ("packets captured"). */
  readonly captured: number;
  /** Packets that matched the filter, dropped ones included ("packets received by filter"). */
  readonly receivedByFilter: number;
  /** Packets the kernel dropped for lack of buffer space ("packets dropped by kernel"). */
  readonly droppedByKernel: number;
  /** Packets the interface dropped; tcpdump prints this only when it is not 0. */
  readonly droppedByInterface: number;
}

/** What a line of tcpdump's stderr says. */
export type TcpdumpEvent =
  | {
      readonly kind: 'listening';
      readonly interface: string;
      readonly linkType: string;
      readonly snapLength: number;
    }
  | { readonly kind: 'counters'; readonly counters: TcpdumpCounters; readonly final: boolean }
  | { readonly kind: 'message'; readonly text: string };

const counterNames = {
  captured: 'captured',
  'received by filter': 'receivedByFilter',
  'dropped by kernel': 'droppedByKernel',
  'dropped by interface': 'droppedByInterface',
} as const satisfies Record<string, keyof TcpdumpCounters>;

// tcpdump.c info(): on SIGUSR1 one line, `tcpdump: 5 packets captured, 5 packets received by
// filter, 0 packets dropped by kernel[, 2 packets dropped by interface]`; at exit the same counts
// one per line without the program name. "packet" is singular for 1.
const LISTENING =
  /^\S+: listening on (.+), link-type (\S+)(?: \(.*\))?, (?:snapshot length|capture size) (\d+) bytes$/;
const ONE_LINE =
  /^\S+: (\d+) packets? captured, (\d+) packets? received by filter, (\d+) packets? dropped by kernel(?:, (\d+) packets? dropped by interface)?$/;
const EXIT_LINE = /^(\d+) packets? (captured|received by filter|dropped by kernel|dropped by interface)$/;

/**
 * Reads tcpdump's stderr line by line. The exit counters span several lines, so they are
 * returned by `end`, once stderr has closed.
 * @example
 * const lines = new TcpdumpStderr();
 * for (const line of text.split('\n')) events.push(...lines.line(line));
 * events.push(...lines.end());
 */
export class TcpdumpStderr {
  #exit: Partial<Record<keyof TcpdumpCounters, number>> | undefined;

  /** Takes one line (without its newline); returns what it says, if anything yet. */
  line(line: string): TcpdumpEvent[] {
    const text = line.trimEnd();
    if (text === '') return [];
    const exit = EXIT_LINE.exec(text);
    if (exit) {
      const name = counterNames[exit[2] as keyof typeof counterNames];
      this.#exit = { ...(name === 'captured' ? {} : this.#exit), [name]: Number(exit[1]) };
      return [];
    }
    const listening = LISTENING.exec(text);
    if (listening) {
      return [
        {
          kind: 'listening',
          interface: listening[1] as string,
          linkType: listening[2] as string,
          snapLength: Number(listening[3]),
        },
      ];
    }
    const one = ONE_LINE.exec(text);
    if (one) {
      const counters = {
        captured: Number(one[1]),
        receivedByFilter: Number(one[2]),
        droppedByKernel: Number(one[3]),
        droppedByInterface: Number(one[4] ?? 0),
      };
      return [{ kind: 'counters', counters, final: false }];
    }
    return [{ kind: 'message', text }];
  }

  /** Ends the input: the exit counters, when tcpdump printed them. */
  end(): TcpdumpEvent[] {
    const e = this.#exit;
    this.#exit = undefined;
    if (e?.captured === undefined || e.receivedByFilter === undefined || e.droppedByKernel === undefined)
      return [];
    const counters = {
      captured: e.captured,
      receivedByFilter: e.receivedByFilter,
      droppedByKernel: e.droppedByKernel,
      droppedByInterface: e.droppedByInterface ?? 0,
    };
    return [{ kind: 'counters', counters, final: true }];
  }
}

/** Everything a whole stderr text of tcpdump says, in order. */
export function parseTcpdumpStderr(text: string): TcpdumpEvent[] {
  const reader = new TcpdumpStderr();
  return [...text.split('\n').flatMap((line) => reader.line(line)), ...reader.end()];
}

export const liveCaptureErrorCodes = [
  'capture/tcpdump-not-found',
  'capture/bad-filter',
  'capture/bad-interface',
  'capture/permission-denied',
  'capture/tcpdump-failed',
] as const;
export type LiveCaptureErrorCode = (typeof liveCaptureErrorCodes)[number];

/** Why a live capture could not start or stopped early; the message quotes tcpdump. */
export class CaptureError extends Error {
  readonly code: LiveCaptureErrorCode;
  /** What tcpdump wrote to stderr about it, lines joined with spaces. */
  readonly tcpdumpMessage: string;

  constructor(code: LiveCaptureErrorCode, message: string, tcpdumpMessage: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CaptureError';
    this.code = code;
    this.tcpdumpMessage = tcpdumpMessage;
  }
}

/** Counts of a live capture so far. */
export interface LiveCaptureStats {
  /** Frames read from tcpdump's output. */
  readonly frames: number;
  /** Captured bytes of those frames (link-layer headers included). */
  readonly bytes: number;
  /** tcpdump's latest counters; absent until it first prints them. */
  readonly tcpdump?: TcpdumpCounters;
  /** True once the counters are the ones tcpdump printed as it exited. */
  readonly final: boolean;
}

/** What a live capture reports while it runs, besides frames. */
export type LiveCaptureEvent =
  | {
      readonly kind: 'listening';
      readonly interface: string;
      readonly linkType: string;
      readonly snapLength: number;
    }
  | { readonly kind: 'stats'; readonly stats: LiveCaptureStats }
  /** A line of tcpdump's stderr that is neither counters nor the listening line (warnings). */
  | { readonly kind: 'message'; readonly text: string };

export interface LiveCaptureOptions {
  /** The interface to capture on (`tcpdump -i`). */
  readonly interface: string;
  /** A BPF filter; default `dcCaptureFilter(dcAddresses)`. */
  readonly filter?: string;
  /** The DC's addresses for the default filter; default the interface's own (`interfaceAddresses`). */
  readonly dcAddresses?: readonly string[];
  /** Bytes kept of each packet (`-s`); default 262144. */
  readonly snapLength?: number;
  /** Kernel buffer in KiB (`-B`); default libpcap's (2 MiB on Linux). Larger means fewer drops in bursts. */
  readonly bufferSizeKiB?: number;
  /** How often tcpdump is asked for its counters (SIGUSR1); default 10 000 ms, 0 for only at the end. */
  readonly statsIntervalMs?: number;
  /** How long `stop` waits for tcpdump to exit before killing it; default 5000 ms. */
  readonly stopTimeoutMs?: number;
  /**
   * The tcpdump command and arguments before its own; default `['tcpdump']`. For example
   * `['ip', 'netns', 'exec', 'lab', 'tcpdump']` captures in another network namespace.
   */
  readonly command?: readonly string[];
  readonly onDiagnostic?: OnCaptureDiagnostic;
  readonly onEvent?: (event: LiveCaptureEvent) => void;
}

interface Finished {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly spawnError?: Error;
}

// tcpdump's last messages (neither counters nor the listening line), kept for error messages.
const MESSAGES_KEPT = 20;

/**
 * Captures frames live with tcpdump. `start` checks the filter and the interface first, so a
 * mistake gives a `CaptureError` quoting tcpdump instead of a capture that never sees a packet.
 * Iterate the capture once for its frames; `stop` ends it (the iteration then ends after the
 * frames still in the pipe) and returns tcpdump's final counters.
 * @example
 * const capture = await LiveCapture.start({ interface: 'eth0', dcAddresses: ['10.0.0.10'] });
 * process.once('SIGINT', () => void capture.stop());
 * for await (const frame of capture) decoder.push(frame);
 * console.error(capture.stats());
 */
export class LiveCapture implements AsyncIterable<CapturedFrame> {
  readonly interface: string;
  readonly filter: string;
  /** The DC addresses the default filter was built with; empty with a filter of the caller's. */
  readonly dcAddresses: readonly string[];
  readonly #child: ChildProcess;
  readonly #reader: CaptureStreamReader;
  readonly #onEvent: (event: LiveCaptureEvent) => void;
  readonly #stopTimeoutMs: number;
  readonly #finished: Promise<Finished>;
  readonly #messages: string[] = [];
  #frames = 0;
  #bytes = 0;
  #counters: TcpdumpCounters | undefined;
  #final = false;
  #stopping = false;
  #iterated = false;
  #timer: NodeJS.Timeout | undefined;

  private constructor(
    options: LiveCaptureOptions,
    filter: string,
    dcAddresses: readonly string[],
    ready: (error?: CaptureError) => void,
  ) {
    this.interface = options.interface;
    this.filter = filter;
    this.dcAddresses = dcAddresses;
    this.#onEvent = options.onEvent ?? (() => {});
    this.#stopTimeoutMs = options.stopTimeoutMs ?? 5000;
    this.#reader = new CaptureStreamReader(
      options.onDiagnostic ? { onDiagnostic: options.onDiagnostic } : {},
    );
    const [program = 'tcpdump', ...before] = options.command ?? ['tcpdump'];
    const args = [
      ...before,
      '-i',
      options.interface,
      '-w',
      '-',
      // Each packet written as it comes (-U) and delivered as it comes (--immediate-mode): alerts
      // must not wait for a buffer to fill on a quiet network.
      '-U',
      '--immediate-mode',
      '-n',
      '-s',
      String(options.snapLength ?? MAX_STREAM_RECORD),
      ...(options.bufferSizeKiB ? ['-B', String(options.bufferSizeKiB)] : []),
      filter,
    ];
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    const stderr = new TcpdumpStderr();
    let listening = false;
    const handle = (event: TcpdumpEvent) => {
      if (event.kind === 'listening') {
        listening = true;
        this.#onEvent(event);
        ready();
        const interval = options.statsIntervalMs ?? 10_000;
        if (interval > 0) this.#timer = setInterval(() => this.#signal('SIGUSR1'), interval);
      } else if (event.kind === 'counters') {
        this.#counters = event.counters;
        this.#final = event.final;
        this.#onEvent({ kind: 'stats', stats: this.stats() });
      } else {
        this.#messages.push(event.text);
        if (this.#messages.length > MESSAGES_KEPT) this.#messages.shift();
        this.#onEvent(event);
      }
    };
    let partial = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) for (const event of stderr.line(line)) handle(event);
    });
    const stderrEnded = new Promise<void>((resolve) => {
      if (!child.stderr) resolve();
      child.stderr?.on('close', () => {
        for (const event of [...stderr.line(partial), ...stderr.end()]) handle(event);
        resolve();
      });
    });
    this.#finished = new Promise<Finished>((resolve) => {
      child.on('error', (spawnError) => resolve({ code: null, signal: null, spawnError }));
      child.on('exit', (code, signal) => resolve({ code, signal }));
    }).then(async (finished) => {
      clearInterval(this.#timer);
      // A process that never started has no stderr to wait for.
      if (!finished.spawnError) await stderrEnded;
      if (!listening) ready(this.#failure({ ...finished, code: finished.code || 1 }, 'start'));
      return finished;
    });
  }

  /** Checks the filter and the interface, then starts tcpdump and waits until it listens. */
  static async start(options: LiveCaptureOptions): Promise<LiveCapture> {
    const dcAddresses =
      options.filter === undefined ? (options.dcAddresses ?? interfaceAddresses(options.interface)) : [];
    const filter = options.filter ?? dcCaptureFilter(dcAddresses);
    const command = options.command ?? ['tcpdump'];
    // The filter alone first (no device, no privileges): its mistakes are the commonest and need
    // no root to find. Then the device with it: existence, permission and the link type's rules.
    await checkWithTcpdump(command, ['-d', filter], options.interface, filter, false);
    await checkWithTcpdump(command, ['-i', options.interface, '-d', filter], options.interface, filter, true);
    let settle: (error?: CaptureError) => void = () => {};
    const ready = new Promise<void>((resolve, reject) => {
      settle = (error) => (error ? reject(error) : resolve());
    });
    const capture = new LiveCapture(options, filter, dcAddresses, (error) => settle(error));
    await ready;
    return capture;
  }

  /** The counts so far: frames and bytes read, and tcpdump's latest counters. */
  stats(): LiveCaptureStats {
    return {
      frames: this.#frames,
      bytes: this.#bytes,
      ...(this.#counters ? { tcpdump: this.#counters } : {}),
      final: this.#final,
    };
  }

  /**
   * Asks tcpdump to stop (SIGINT, then SIGKILL after `stopTimeoutMs`) and waits until it has
   * exited; returns the counts with tcpdump's final counters. Safe to call more than once.
   */
  async stop(): Promise<LiveCaptureStats> {
    if (!this.#stopping) {
      this.#stopping = true;
      clearInterval(this.#timer);
      this.#signal('SIGINT');
      const kill = setTimeout(() => this.#signal('SIGKILL'), this.#stopTimeoutMs);
      // Nobody reads the pipe when the frames are not iterated: drain it so tcpdump can exit.
      if (!this.#iterated) this.#child.stdout?.resume();
      await this.#finished;
      clearTimeout(kill);
    }
    await this.#finished;
    return this.stats();
  }

  /** The frames, in capture order; ends when tcpdump exits. Throws `CaptureError` if it fails. */
  async *[Symbol.asyncIterator](): AsyncGenerator<CapturedFrame> {
    if (this.#iterated) throw new Error('a LiveCapture can be iterated only once');
    this.#iterated = true;
    const stdout = this.#child.stdout;
    if (stdout) {
      for await (const chunk of stdout as AsyncIterable<Buffer>) {
        for (const frame of this.#reader.push(chunk)) yield this.#count(frame);
        // A damaged stream (reported as a diagnostic) cannot be followed further.
        if (this.#reader.stopped) {
          void this.stop();
          break;
        }
      }
    }
    for (const frame of this.#reader.finish()) yield this.#count(frame);
    const failure = this.#failure(await this.#finished, 'run');
    if (failure) throw failure;
  }

  #count(frame: CapturedFrame): CapturedFrame {
    this.#frames++;
    this.#bytes += frame.data.length;
    return frame;
  }

  #signal(signal: NodeJS.Signals): void {
    // Only while the process runs: its pid could belong to another process after it exited.
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill(signal);
  }

  #failure(finished: Finished, phase: 'start' | 'run'): CaptureError | undefined {
    if (finished.spawnError) return notFound(finished.spawnError, this.#child.spawnfile);
    if (finished.code === 0 || (this.#stopping && finished.code === null)) return undefined;
    const said = tcpdumpText(this.#messages);
    if (phase === 'start') return classify(said, this.interface, this.filter);
    const how =
      finished.code === null ? `was killed by ${finished.signal}` : `exited with code ${finished.code}`;
    return new CaptureError('capture/tcpdump-failed', `tcpdump on ${this.interface} ${how}: ${said}`, said);
  }
}

// tcpdump's error lines as one message, without the warnings that come before them.
function tcpdumpText(lines: readonly string[]): string {
  const said = lines.map((l) => l.trim()).filter((l) => l !== '' && !/^Warning:/.test(l));
  return said.join(' ') || '(no message)';
}

function notFound(error: Error, program: string): CaptureError {
  return new CaptureError(
    'capture/tcpdump-not-found',
    `cannot run ${program}: ${error.message}; live capture needs tcpdump (Debian: apt-get install tcpdump)`,
    '',
    { cause: error },
  );
}

// What tcpdump said when it would not start: about the interface when it names it (tcpdump
// prefixes device errors with the device), otherwise about the filter.
function classify(said: string, iface: string, filter: string): CaptureError {
  const aboutInterface = said.includes(`: ${iface}: `);
  if (aboutInterface && /permission|not permitted/i.test(said)) {
    return new CaptureError(
      'capture/permission-denied',
      `no permission to capture on ${iface} (run as root, or give tcpdump CAP_NET_RAW and CAP_NET_ADMIN): ${said}`,
      said,
    );
  }
  if (aboutInterface)
    return new CaptureError('capture/bad-interface', `cannot capture on interface ${iface}: ${said}`, said);
  return new CaptureError('capture/bad-filter', `bad capture filter '${filter}': ${said}`, said);
}

// Runs tcpdump with `-d` (compile the filter, print it, exit): non-zero means it would not start.
function checkWithTcpdump(
  command: readonly string[],
  args: readonly string[],
  iface: string,
  filter: string,
  withInterface: boolean,
): Promise<void> {
  const [program = 'tcpdump', ...before] = command;
  return new Promise((resolve, reject) => {
    const child = spawn(program, [...before, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      // A bad filter gives a line or two; keep what matters, not an unbounded amount.
      if (stderr.length < 4096) stderr += text;
    });
    child.on('error', (e) => reject(notFound(e, program)));
    child.on('close', (code) => {
      if (code === 0) return resolve();
      const said = tcpdumpText(stderr.split('\n'));
      reject(
        withInterface
          ? classify(said, iface, filter)
          : new CaptureError('capture/bad-filter', `bad capture filter '${filter}': ${said}`, said),
      );
    });
  });
}
