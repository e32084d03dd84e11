// A live Windows event channel (Security, Sysmon/Operational, Directory Service…) as a sensor
// source, read through the system's event log tool: `wevtutil qe` asked for the records after the
// last EventRecordID sent, in XML, turned into the same typed events the EVTX reader gives.
import { execFile } from 'node:child_process';
import type { EvtxEvent } from '@palisade/evtx';
import { chunkLimits, type Source, type SourceContext } from '../source.ts';
import { eventFromXml, sliceEvents } from './event-xml.ts';
import { messageOf, pause } from './line-tail.ts';

/** The last EventRecordID sent. */
export type WindowsChannelCheckpoint = { readonly recordId: number };

/** What a finished command gave. */
export interface CommandResult {
  readonly exitCode: number;
  readonly stdout: Uint8Array;
  readonly stderr: Uint8Array;
}

/** Runs a command without a shell; replaced in tests by one answering from recorded output. */
export type CommandRunner = (
  command: string,
  args: readonly string[],
  signal: AbortSignal,
) => Promise<CommandResult>;

export interface WindowsChannelSourceOptions {
  /** The channel, e.g. `Security` or `Microsoft-Windows-Sysmon/Operational`. */
  readonly channel: string;
  /** Without a checkpoint: every record the channel holds (default), or only those written from now on. */
  readonly start?: 'oldest' | 'newest';
  /** How often to ask for new records when the last answer was not full; default 1 s. */
  readonly pollIntervalMs?: number;
  /** How often, while idle, to check that the channel was not cleared; default 30 s. */
  readonly resetCheckMs?: number;
  /** Most events per query and chunk; default {@link chunkLimits}.maxChunkRecords. */
  readonly maxChunkRecords?: number;
  /** Runs the tool; default {@link runCommand}. */
  readonly run?: CommandRunner;
}

/** The event log tool. */
export const eventLogTool = 'wevtutil';

/**
 * The arguments asking for up to `count` records after `afterRecordId`, oldest first, as XML in
 * an `<Events>` root, written as UTF-16 so that no character is lost to the console code page.
 */
export function queryArguments(channel: string, afterRecordId: number, count: number): string[] {
  return [
    'qe',
    channel,
    `/q:*[System[(EventRecordID>${afterRecordId})]]`,
    `/c:${count}`,
    '/rd:false',
    '/f:xml',
    '/e:Events',
    '/uni:true',
  ];
}

/** The arguments asking for the newest record only. */
export function newestArguments(channel: string): string[] {
  return ['qe', channel, '/c:1', '/rd:true', '/f:xml', '/e:Events', '/uni:true'];
}

/** Runs a command with its output as bytes; a command that cannot start is exit code -1. */
export const runCommand: CommandRunner = (command, args, signal) =>
  new Promise((resolve) => {
    execFile(
      command,
      [...args],
      { encoding: 'buffer', maxBuffer: 256 << 20, signal, windowsHide: true },
      (error, stdout, stderr) => {
        const code = error && typeof error.code === 'number' ? error.code : error ? -1 : 0;
        const err = stderr.length === 0 && error ? Buffer.from(error.message) : stderr;
        resolve({ exitCode: code, stdout, stderr: err });
      },
    );
  });

/** Tool output as text: UTF-16LE (with or without its byte order mark) or UTF-8. */
export function decodeOutput(bytes: Uint8Array): string {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) return b.toString('utf16le', 2);
  // UTF-16LE of XML text: '<' then a zero byte.
  if (b.length >= 2 && b[1] === 0 && b[0] !== 0) return b.toString('utf16le');
  return b.toString('utf8');
}

/**
 * A source reading one live channel. A failing query (a channel that does not exist, access
 * denied) is the `windows-channel/query-failed` health issue and is retried; an event whose XML
 * cannot be read is `windows-channel/bad-event-xml` and is skipped; a channel whose newest record
 * is below the checkpoint (cleared, recreated) is `windows-channel/log-reset` and is read again
 * from its oldest record.
 *
 * @example
 * const source = windowsChannelSource({ channel: 'Security' });
 */
export function windowsChannelSource(options: WindowsChannelSourceOptions): Source<WindowsChannelCheckpoint> {
  const { channel } = options;
  const run = options.run ?? runCommand;
  const interval = options.pollIntervalMs ?? 1_000;
  const resetCheck = options.resetCheckMs ?? 30_000;
  const max = options.maxChunkRecords ?? chunkLimits.maxChunkRecords;
  return {
    id: `windows-channel:${channel}`,
    async *run(from, context) {
      const { signal } = context;
      const query = async (args: string[]): Promise<ReadResult | undefined> => {
        let result: CommandResult;
        try {
          result = await run(eventLogTool, args, signal);
        } catch (e) {
          if (signal.aborted) return undefined;
          result = { exitCode: -1, stdout: new Uint8Array(), stderr: Buffer.from(messageOf(e)) };
        }
        if (signal.aborted) return undefined;
        if (result.exitCode !== 0) {
          context.health({
            code: 'windows-channel/query-failed',
            message: `${eventLogTool} ${args.join(' ')} failed with exit code ${result.exitCode}: ${decodeOutput(result.stderr).trim() || 'no message'}`,
            details: { channel, exitCode: result.exitCode },
          });
          return undefined;
        }
        context.clearHealth('windows-channel/query-failed');
        return readEvents(decodeOutput(result.stdout), channel, context);
      };

      let last = from?.recordId;
      while (last === undefined && !signal.aborted) {
        if (options.start !== 'newest') last = 0;
        else {
          const newest = await query(newestArguments(channel));
          if (newest) last = newest.highest ?? 0;
          else await pause(interval, signal);
        }
      }
      let lastResetCheck = Date.now();
      while (!signal.aborted && last !== undefined) {
        const read = await query(queryArguments(channel, last, max));
        if (!read) {
          await pause(interval, signal);
          continue;
        }
        const after: number = last;
        const events = read.events.filter((e) => e.recordId > after);
        const highest = Math.max(last, read.highest ?? 0);
        if (highest > last) {
          last = highest;
          yield { rows: [], events, checkpoint: { recordId: last } };
        }
        if (read.count >= max) continue;
        if (read.count === 0 && Date.now() - lastResetCheck >= resetCheck) {
          lastResetCheck = Date.now();
          const newest = await query(newestArguments(channel));
          if (newest?.highest !== undefined && newest.highest < last) {
            context.health({
              code: 'windows-channel/log-reset',
              message: `channel ${channel} ends at record ${newest.highest}, before record ${last} already sent: it was cleared or recreated; reading it from its oldest record`,
              details: { channel, newest: newest.highest, sent: last },
            });
            last = 0;
            continue;
          }
        }
        await pause(interval, signal);
      }
    },
  };
}

interface ReadResult {
  /** Events read, in the order the tool gave them. */
  readonly events: readonly EvtxEvent[];
  /** Events in the output, read or not. */
  readonly count: number;
  /** The highest EventRecordID in the output, including events that could not be read. */
  readonly highest: number | undefined;
}

/** The events of one answer; unreadable ones are reported and counted, with their id when it shows. */
function readEvents(text: string, channel: string, context: SourceContext): ReadResult {
  const events: EvtxEvent[] = [];
  let highest: number | undefined;
  const slices = sliceEvents(text);
  for (const slice of slices) {
    const result = eventFromXml(slice.xml);
    if (result.kind === 'event') {
      events.push(result.event);
      highest = Math.max(highest ?? 0, result.event.recordId);
      continue;
    }
    const id = /<EventRecordID>(\d+)<\/EventRecordID>/.exec(slice.xml)?.[1];
    if (id !== undefined) highest = Math.max(highest ?? 0, Number(id));
    context.health({
      code: 'windows-channel/bad-event-xml',
      message: `channel ${channel}: event${id === undefined ? '' : ` ${id}`} at character ${slice.offset + result.offset} of the tool's output: ${result.message}; skipped`,
      details: {
        channel,
        offset: slice.offset + result.offset,
        ...(id === undefined ? {} : { recordId: Number(id) }),
      },
    });
  }
  return { events, count: slices.length, highest };
}
