// The Windows channel source on recorded tool output (fixtures/windows-channel/): a stand-in for
// the event log tool answers each query from the recorded events, as UTF-16 like the real one. The
// shared source behaviour, the exact query, failing queries, broken event XML and a cleared log.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { eventFromJson } from '@palisade/detect';
import { describe, expect, it } from 'vitest';
import type { SourceChunk } from '../src/source.ts';
import {
  type CommandResult,
  type CommandRunner,
  type WindowsChannelCheckpoint,
  type WindowsChannelSourceOptions,
  windowsChannelSource,
} from '../src/sources/windows-channel-source.ts';
import { collect, describeSource, testContext } from './source.suite.ts';

const fixture = readFileSync(
  resolve(import.meta.dirname, '../fixtures/windows-channel/security.xml'),
  'utf8',
);
/** The recorded events and their EventRecordIDs, cut out with plain text search. */
const recorded = [...fixture.matchAll(/<Event xmlns=[\s\S]*?<\/Event>/g)].map((m) => m[0]);
const idOf = (xml: string) => Number(/<EventRecordID>(\d+)<\/EventRecordID>/.exec(xml)?.[1]);

/** A stand-in for the event log tool over a channel holding `events`; keeps the calls it got. */
function recordedTool(events: string[]) {
  const calls: string[][] = [];
  let failure: CommandResult | undefined;
  const run: CommandRunner = async (command, args) => {
    calls.push([command, ...args]);
    if (failure) return failure;
    const after = Number(/EventRecordID>(\d+)/.exec(args.join(' '))?.[1] ?? 0);
    const count = Number(args.find((a) => a.startsWith('/c:'))?.slice(3) ?? events.length);
    const newestFirst = args.includes('/rd:true');
    const matching = events.filter((e) => idOf(e) > after);
    const answer = (newestFirst ? matching.reverse() : matching).slice(0, count);
    const text = `<Events>\r\n${answer.map((e) => `${e}\r\n`).join('')}</Events>\r\n`;
    return { exitCode: 0, stdout: Buffer.from(`\ufeff${text}`, 'utf16le'), stderr: new Uint8Array() };
  };
  return {
    run,
    calls,
    events,
    fail(result: CommandResult | undefined) {
      failure = result;
    },
  };
}

const identities = (chunk: SourceChunk<WindowsChannelCheckpoint>) =>
  (chunk.events as { recordId: number }[]).map((e) => String(e.recordId));

function source(tool: ReturnType<typeof recordedTool>, options: Partial<WindowsChannelSourceOptions> = {}) {
  return windowsChannelSource({
    channel: 'Security',
    run: tool.run,
    pollIntervalMs: 20,
    maxChunkRecords: 5,
    ...options,
  });
}

describeSource<WindowsChannelCheckpoint>('windowsChannelSource', async () => {
  const tool = recordedTool(recorded.slice(0, 12));
  return {
    source: source(tool),
    identities,
    expected: recorded.slice(0, 12).map((e) => String(idOf(e))),
    append: async () => {
      tool.events.push(...recorded.slice(12));
      return recorded.slice(12).map((e) => String(idOf(e)));
    },
    settleMs: 150,
    cleanup: async () => {},
  };
});

describe('windowsChannelSource', () => {
  it('asks the tool for the records after the checkpoint, oldest first, as XML in UTF-16', async () => {
    const tool = recordedTool(recorded);
    const got = await collect(source(tool), { recordId: idOf(recorded[9] as string) }, 8, identities, 100);
    expect(got.identities).toEqual(recorded.slice(10).map((e) => String(idOf(e))));
    expect(tool.calls[0]).toEqual([
      'wevtutil',
      'qe',
      'Security',
      `/q:*[System[(EventRecordID>${idOf(recorded[9] as string)})]]`,
      '/c:5',
      '/rd:false',
      '/f:xml',
      '/e:Events',
      '/uni:true',
    ]);
    // The server reads the events back as they are sent.
    for (const [i, event] of got.chunks.flatMap((c) => c.events).entries()) {
      const back = eventFromJson(JSON.parse(JSON.stringify(event)), i);
      expect('event' in back ? back.event : back).toEqual(event);
    }
  });

  it('reports a failing query as windows-channel/query-failed, retries, and clears it once it works', async () => {
    const tool = recordedTool(recorded.slice(0, 3));
    tool.fail({
      exitCode: 15007,
      stdout: new Uint8Array(),
      stderr: Buffer.from('Failed to read events. The specified channel could not be found.\r\n', 'utf16le'),
    });
    const controller = new AbortController();
    const context = testContext(controller.signal);
    const got: string[] = [];
    setTimeout(() => tool.fail(undefined), 100);
    setTimeout(() => controller.abort(), 2_000);
    for await (const chunk of source(tool).run(undefined, context)) {
      got.push(...identities(chunk));
      if (got.length >= 3) controller.abort();
    }
    expect(got).toEqual(recorded.slice(0, 3).map((e) => String(idOf(e))));
    expect(context.issues.length).toBeGreaterThan(0);
    expect(context.issues[0]).toEqual({
      code: 'windows-channel/query-failed',
      message: `wevtutil qe Security /q:*[System[(EventRecordID>0)]] /c:5 /rd:false /f:xml /e:Events /uni:true failed with exit code 15007: Failed to read events. The specified channel could not be found.`,
      details: { channel: 'Security', exitCode: 15007 },
    });
    expect(context.cleared).toContain('windows-channel/query-failed');
  });

  it('skips an event whose XML is broken, naming it, and goes on past it', async () => {
    const broken = (recorded[1] as string).replace('</EventData>', '</EventDat>');
    const tool = recordedTool([recorded[0] as string, broken, recorded[2] as string]);
    const got = await collect(source(tool), undefined, 2, identities, 100);
    expect(got.identities).toEqual([recorded[0], recorded[2]].map((e) => String(idOf(e as string))));
    expect(got.issues.map((i) => [i.code, i.details?.recordId])).toEqual([
      ['windows-channel/bad-event-xml', idOf(broken)],
    ]);
    expect(got.issues[0]?.message).toContain('expected </EventData>, found </EventDat>');
    expect(got.chunks.at(-1)?.checkpoint).toEqual({ recordId: idOf(recorded[2] as string) });
  });

  it('reads a channel cleared since the checkpoint again from its oldest record, and says so', async () => {
    const tool = recordedTool(recorded.slice(0, 4));
    const got = await collect(
      source(tool, { resetCheckMs: 0 }),
      { recordId: 99_999_999 },
      4,
      identities,
      100,
    );
    expect(got.identities).toEqual(recorded.slice(0, 4).map((e) => String(idOf(e))));
    expect(got.issues.map((i) => i.code)).toEqual(['windows-channel/log-reset']);
  });

  it('started at the newest record, gives only records written afterwards', async () => {
    const tool = recordedTool(recorded.slice(0, 10));
    const controller = new AbortController();
    const context = testContext(controller.signal);
    const got: string[] = [];
    setTimeout(() => tool.events.push(...recorded.slice(10, 12)), 100);
    setTimeout(() => controller.abort(), 3_000);
    for await (const chunk of source(tool, { start: 'newest' }).run(undefined, context)) {
      got.push(...identities(chunk));
      if (got.length >= 2) controller.abort();
    }
    expect(got).toEqual(recorded.slice(10, 12).map((e) => String(idOf(e))));
    expect(tool.calls[0]).toEqual([
      'wevtutil',
      'qe',
      'Security',
      '/c:1',
      '/rd:true',
      '/f:xml',
      '/e:Events',
      '/uni:true',
    ]);
  });
});
