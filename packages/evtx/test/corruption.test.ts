// Corruption cases built byte by byte with evtx-builder.ts: each checks the whole diagnostic list
// (code, severity, file offset, chunk, record) and which records survive. Offsets come from the
// layout the test wrote (MS-EVEN6: 4096-byte file header, 65536-byte chunks, records from 0x200).
import { describe, expect, it } from 'vitest';
import { MAX_ELEMENT_DEPTH } from '../src/binxml.ts';
import { type EvtxDiagnostic, type EvtxEvent, parseEvtx } from '../src/index.ts';
import {
  type BinXml,
  ChunkBuilder,
  evtxFile,
  hexBytes,
  le32,
  type TemplateSpec,
  utf16,
  writeChunkHeaderChecksum,
  writeFileChecksum,
  writeRecordsChecksum,
} from './evtx-builder.ts';

const SOURCE = 'test.evtx';
const C0 = 0x1000; // chunk 0 starts after the 4096-byte file header
const C1 = 0x11000; // chunk 1, 65536 bytes later

// <Event><System><EventID>%0</EventID></System><EventData><Data Name="Value">%1</Data></EventData></Event>
const eventTemplate: TemplateSpec = {
  guid: hexBytes('00112233445566778899aabbccddeeff'),
  body: (x) =>
    x
      .fragmentHeader()
      .element('Event')
      .close()
      .element('System')
      .close()
      .element('EventID')
      .close()
      .sub(0, 0x06)
      .end()
      .end()
      .element('EventData')
      .close()
      .element('Data', [['Name', (a) => a.text('Value')]])
      .close()
      .sub(1, 0x01)
      .end()
      .end()
      .end()
      .eos(),
};

/** Record `id` as event 4000 + id with Data Value "v<id>". */
function addEvent(c: ChunkBuilder, id: number): void {
  const eventId = new Uint8Array(2);
  new DataView(eventId.buffer).setUint16(0, 4000 + id, true);
  c.record(id, (x) =>
    x
      .fragmentHeader()
      .instance(eventTemplate, [
        { type: 0x06, bytes: eventId },
        { type: 0x01, bytes: utf16(`v${id}`) },
      ])
      .eos(),
  );
}

function chunkOf(ids: readonly number[]): ChunkBuilder {
  const c = new ChunkBuilder();
  for (const id of ids) addEvent(c, id);
  return c;
}

/** What a test compares: each event as id, event id, value, recovered; and every diagnostic. */
function run(bytes: Uint8Array) {
  const { events, diagnostics } = parseEvtx(bytes, { source: SOURCE });
  return { events: events.map(brief), diagnostics };
}

function brief(e: EvtxEvent) {
  return {
    recordId: e.recordId,
    eventId: e.system.eventId,
    value: e.eventData?.Value,
    recovered: e.recovered === true,
  };
}

/** The brief form of the events addEvent wrote. */
function written(ids: readonly number[], recovered: readonly number[] = []) {
  return ids.map((id) => ({
    recordId: id,
    eventId: 4000 + id,
    value: `v${id}`,
    recovered: recovered.includes(id),
  }));
}

function diagnostic(
  severity: EvtxDiagnostic['severity'],
  code: EvtxDiagnostic['code'],
  offset: number,
  message: string,
  chunk?: number,
  recordId?: number,
): EvtxDiagnostic {
  return {
    severity,
    code,
    message,
    source: SOURCE,
    offset,
    ...(chunk === undefined ? {} : { chunk }),
    ...(recordId === undefined ? {} : { recordId }),
  };
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** Rewrites both chunk checksums so a test sees only the corruption it means. */
function resum(chunk: Uint8Array): Uint8Array {
  writeRecordsChecksum(chunk);
  writeChunkHeaderChecksum(chunk);
  return chunk;
}

describe('a valid synthetic file', () => {
  it('reads every record with no diagnostics', () => {
    expect(run(evtxFile([chunkOf([1, 2]).finish(), chunkOf([3]).finish()]))).toEqual({
      events: written([1, 2, 3]),
      diagnostics: [],
    });
  });
});

describe('file header', () => {
  it('a bad file magic is reported and the chunks are still read', () => {
    const file = evtxFile([chunkOf([1, 2]).finish()]);
    file.fill(0, 0, 8);
    expect(run(file)).toEqual({
      events: written([1, 2]),
      diagnostics: [
        diagnostic(
          'error',
          'evtx/bad-file-magic',
          0,
          'expected file magic ElfFile, found 00 00 00 00 00 00 00 00; looking for chunks anyway',
        ),
      ],
    });
  });

  it('a file header checksum mismatch is a warning', () => {
    const file = evtxFile([chunkOf([1]).finish()]);
    view(file).setUint32(124, view(file).getUint32(124, true) ^ 1, true);
    expect(run(file)).toEqual({
      events: written([1]),
      diagnostics: [
        diagnostic(
          'warning',
          'evtx/file-header-crc',
          124,
          'file header checksum does not match its first 120 bytes',
        ),
      ],
    });
  });

  it('a major version other than 3 is a warning', () => {
    const file = evtxFile([chunkOf([1]).finish()]);
    view(file).setUint16(38, 2, true);
    writeFileChecksum(file);
    expect(run(file).diagnostics).toEqual([
      diagnostic('warning', 'evtx/bad-file-header', 38, 'expected format version 3.x, found 2.1'),
    ]);
  });

  it('the dirty flag (0x1) is reported as information; the full flag (0x2) is not', () => {
    expect(run(evtxFile([chunkOf([1]).finish()], { flags: 1 }))).toEqual({
      events: written([1]),
      diagnostics: [
        diagnostic(
          'info',
          'evtx/dirty-file',
          120,
          'file is marked dirty (not closed cleanly); records past its counts are recovered',
        ),
      ],
    });
    expect(run(evtxFile([chunkOf([1]).finish()], { flags: 2 })).diagnostics).toEqual([]);
  });

  it('a file shorter than its header is reported at its end', () => {
    const file = evtxFile([chunkOf([1]).finish()]);
    expect(run(file.subarray(0, 2000))).toEqual({
      events: [],
      diagnostics: [
        diagnostic(
          'error',
          'evtx/truncated-file',
          2000,
          'file is 2000 bytes, shorter than the 4096-byte file header',
        ),
        diagnostic('error', 'evtx/truncated-file', 2000, 'header counts 1 chunks, file holds 0'),
      ],
    });
    // Under 128 bytes the header cannot be read, but its magic is right: one diagnostic, not two.
    expect(run(file.subarray(0, 100)).diagnostics).toEqual([
      diagnostic(
        'error',
        'evtx/truncated-file',
        100,
        'file is 100 bytes, shorter than the 4096-byte file header',
      ),
    ]);
    expect(run(new Uint8Array(0)).diagnostics).toEqual([
      diagnostic(
        'error',
        'evtx/truncated-file',
        0,
        'file is 0 bytes, shorter than the 4096-byte file header',
      ),
      diagnostic(
        'error',
        'evtx/bad-file-magic',
        0,
        'expected file magic ElfFile, found <end of data>; looking for chunks anyway',
      ),
    ]);
  });

  it('a chunk past the chunks the header counts is recovered', () => {
    const file = evtxFile([chunkOf([1, 2]).finish(), chunkOf([3, 4]).finish()], { chunkCount: 1 });
    expect(run(file)).toEqual({
      events: written([1, 2, 3, 4], [3, 4]),
      diagnostics: [
        diagnostic(
          'info',
          'evtx/recovered-chunk',
          C1,
          'chunk 1 is past the 1 chunks the file header counts; its records are recovered',
          1,
        ),
      ],
    });
  });
});

describe('chunk header', () => {
  it('a bad chunk magic skips that chunk; the next chunk is still read', () => {
    const first = chunkOf([1, 2]).finish();
    first.fill(0, 0, 8);
    expect(run(evtxFile([first, chunkOf([3, 4]).finish()]))).toEqual({
      events: written([3, 4]),
      diagnostics: [
        diagnostic(
          'error',
          'evtx/bad-chunk-magic',
          C0,
          'expected chunk magic ElfChnk, found 00 00 00 00 00 00 00 00; chunk skipped',
          0,
        ),
      ],
    });
  });

  it('a chunk header checksum mismatch is a warning and the records are read', () => {
    const chunk = chunkOf([1, 2]).finish();
    const good = view(chunk).getUint32(124, true);
    view(chunk).setUint32(124, ~good >>> 0, true);
    expect(run(evtxFile([chunk]))).toEqual({
      events: written([1, 2]),
      diagnostics: [
        diagnostic(
          'warning',
          'evtx/chunk-header-crc',
          C0 + 124,
          `chunk header checksum ${hex(~good >>> 0)} does not match computed ${hex(good)}`,
          0,
        ),
      ],
    });
  });

  it('an event records checksum mismatch is a warning and the records are read', () => {
    const chunk = chunkOf([1, 2]).finish();
    const good = view(chunk).getUint32(52, true);
    view(chunk).setUint32(52, ~good >>> 0, true);
    writeChunkHeaderChecksum(chunk); // the records checksum is inside the header's checked bytes
    expect(run(evtxFile([chunk]))).toEqual({
      events: written([1, 2]),
      diagnostics: [
        diagnostic(
          'warning',
          'evtx/chunk-records-crc',
          C0 + 52,
          `event records checksum ${hex(~good >>> 0)} does not match computed ${hex(good)}`,
          0,
        ),
      ],
    });
  });

  it('a free space offset inside the chunk header is a warning; records are read as recovered', () => {
    const c = chunkOf([1, 2]);
    expect(run(evtxFile([c.finish({ freeSpaceOffset: 0x10 })]))).toEqual({
      events: written([1, 2], [1, 2]),
      diagnostics: [
        diagnostic(
          'warning',
          'evtx/bad-chunk-header',
          C0 + 48,
          'free space offset 0x10 outside 0x200–0x10000; reading records until the first invalid one',
          0,
        ),
        diagnostic(
          'info',
          'evtx/recovered-records',
          C0 + 44,
          "2 records past the chunk header's last record recovered",
          0,
        ),
      ],
    });
  });

  it('a record past the last record offset but before free space is recovered', () => {
    const c = chunkOf([1, 2, 3]);
    const second = c.records[1]?.offset ?? 0;
    expect(run(evtxFile([c.finish({ lastRecordOffset: second })]))).toEqual({
      events: written([1, 2, 3], [3]),
      diagnostics: [
        diagnostic(
          'info',
          'evtx/recovered-records',
          C0 + 44,
          "1 record past the chunk header's last record recovered",
          0,
        ),
      ],
    });
  });

  it('stale records past free space are recovered when they decode and counted when they do not', () => {
    const c = chunkOf([1, 2]);
    const stale = c.pos;
    c.record(3, (x) => x.fragmentHeader().instanceAt(0x10, []).eos());
    addEvent(c, 4);
    expect(run(evtxFile([c.finish({ freeSpaceOffset: stale })]))).toEqual({
      events: written([1, 2, 4], [4]),
      diagnostics: [
        diagnostic(
          'info',
          'evtx/recovered-records',
          C0 + 44,
          "1 record past the chunk header's last record recovered",
          0,
        ),
        diagnostic(
          'info',
          'evtx/unrecoverable-records',
          C0 + stale,
          "1 stale record in the chunk's free space could not be decoded (their templates were overwritten)",
          0,
        ),
      ],
    });
  });

  it('a chunk cut short before its free space offset is reported', () => {
    const c = chunkOf([1, 2, 3]);
    const third = c.records[2]?.offset ?? 0;
    // Cut exactly at a record boundary: no frame is broken, yet record 3 is lost.
    const file = evtxFile([c.finish()]).subarray(0, C0 + third);
    expect(run(file)).toEqual({
      events: written([1, 2]),
      diagnostics: [
        diagnostic(
          'error',
          'evtx/truncated-file',
          C0 + third,
          `chunk ends after ${third} bytes, before its free space offset ${hex(c.pos)}; the records past its end are lost`,
          0,
        ),
      ],
    });
  });
});

describe('record frames', () => {
  it('a record whose size runs past the chunk end is skipped; the next record is read', () => {
    const c = chunkOf([1, 2, 3]);
    const [, second, third] = c.records;
    if (!second || !third) throw new Error('layout');
    const chunk = c.finish();
    view(chunk).setUint32(second.offset + 4, 0x10000, true);
    expect(run(evtxFile([resum(chunk)]))).toEqual({
      events: written([1, 3]),
      diagnostics: [
        diagnostic(
          'error',
          'evtx/truncated-record',
          C0 + second.offset,
          `record size 65536 runs past the chunk end (${0x10000 - second.offset} bytes left); skipped ${third.offset - second.offset} bytes to the next record`,
          0,
          2,
        ),
      ],
    });
  });

  it('a record whose trailing size copy differs is skipped; later records are read', () => {
    const c = chunkOf([1, 2, 3, 4]);
    const [, second, third] = c.records;
    if (!second || !third) throw new Error('layout');
    const chunk = c.finish();
    view(chunk).setUint32(second.offset + second.size - 4, second.size + 8, true);
    expect(run(evtxFile([resum(chunk)]))).toEqual({
      events: written([1, 3, 4]),
      diagnostics: [
        diagnostic(
          'error',
          'evtx/bad-record',
          C0 + second.offset,
          `record size ${second.size} does not match its trailing copy ${second.size + 8}; skipped ${third.offset - second.offset} bytes to the next record`,
          0,
          2,
        ),
      ],
    });
  });

  it('a record with a bad magic is skipped to the next record, without naming an identifier', () => {
    const c = chunkOf([1, 2, 3]);
    const [, second, third] = c.records;
    if (!second || !third) throw new Error('layout');
    const chunk = c.finish();
    chunk.fill(0, second.offset, second.offset + 4);
    expect(run(evtxFile([resum(chunk)]))).toEqual({
      events: written([1, 3]),
      diagnostics: [
        diagnostic(
          'error',
          'evtx/bad-record',
          C0 + second.offset,
          `expected record magic 2a 2a 00 00, found 00 00 00 00; skipped ${third.offset - second.offset} bytes to the next record`,
          0,
        ),
      ],
    });
  });
});

describe('BinXML', () => {
  /** Chunk with event 1, record 2 written by `body`, then event 3; returns record 2's offset. */
  function between(body: (x: BinXml) => void): { chunk: Uint8Array; at: number } {
    const c = chunkOf([1]);
    const at = c.pos;
    c.record(2, body);
    addEvent(c, 3);
    return { chunk: c.finish(), at };
  }

  // A record's BinXML starts 24 bytes in; its template instance token follows the 4-byte fragment header.
  const BINXML = 24;
  const INSTANCE = BINXML + 4;

  it.each([0x10, 0x1fc, 0xfff0, 0xfffffff0])(
    'a template definition offset of %i outside the chunk data skips the record',
    (definition) => {
      const { chunk, at } = between((x) => x.fragmentHeader().instanceAt(definition, []).eos());
      expect(run(evtxFile([chunk]))).toEqual({
        events: written([1, 3]),
        diagnostics: [
          diagnostic(
            'error',
            'evtx/bad-template',
            C0 + at + INSTANCE,
            // 0xffe8 = 65536 - 24: the last offset with room for a definition header.
            `template definition offset: expected an offset inside the chunk's data (0x200–0xffe8), found ${hex(definition)} at ${hex(C0 + at + INSTANCE)}; record skipped`,
            0,
            2,
          ),
        ],
      });
    },
  );

  it('a template that contains an instance of itself is a cycle, reported at that instance', () => {
    const c = new ChunkBuilder();
    let inner = 0;
    const self: TemplateSpec = {
      guid: hexBytes('11111111111111111111111111111111'),
      body: (x) => {
        x.fragmentHeader().element('Event').close();
        inner = x.pos;
        x.instance(self, []).end().eos();
      },
    };
    c.record(1, (x) => x.fragmentHeader().instance(self, []).eos());
    const definition = c.templates.get(self) ?? 0;
    c.record(2, (x) => x.fragmentHeader().instance(self, []).eos());
    addEvent(c, 3);
    const cycle = (recordId: number) =>
      diagnostic(
        'error',
        'evtx/template-cycle',
        C0 + inner,
        `template instance: expected a template that does not contain itself, found a reference back to the template at ${hex(C0 + definition)} at ${hex(C0 + inner)}; record skipped`,
        0,
        recordId,
      );
    // Record 2 uses the same template again: the cycle is found again, not cached as valid.
    expect(run(evtxFile([c.finish()]))).toEqual({ events: written([3]), diagnostics: [cycle(1), cycle(2)] });
  });

  it('a cycle through two templates is found at the instance that closes it', () => {
    const c = new ChunkBuilder();
    let inner = 0;
    const a: TemplateSpec = {
      guid: hexBytes('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'),
      body: (x) => x.fragmentHeader().element('A').close().instance(b, []).end().eos(),
    };
    const b: TemplateSpec = {
      guid: hexBytes('bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'),
      body: (x) => {
        x.fragmentHeader().element('B').close();
        inner = x.pos;
        x.instance(a, []).end().eos();
      },
    };
    c.record(1, (x) => x.fragmentHeader().instance(a, []).eos());
    const definitionA = c.templates.get(a) ?? 0;
    expect(run(evtxFile([c.finish()])).diagnostics).toEqual([
      diagnostic(
        'error',
        'evtx/template-cycle',
        C0 + inner,
        `template instance: expected a template that does not contain itself, found a reference back to the template at ${hex(C0 + definitionA)} at ${hex(C0 + inner)}; record skipped`,
        0,
        1,
      ),
    ]);
  });

  /** A record of `depth` nested <E> elements around one text; returns each element's token offset. */
  function nested(c: ChunkBuilder, id: number, depth: number): number[] {
    const starts: number[] = [];
    c.record(id, (x) => {
      x.fragmentHeader();
      for (let i = 0; i < depth; i++) {
        starts.push(x.pos);
        x.element('E').close();
      }
      x.text('deep');
      for (let i = 0; i < depth; i++) x.end();
      x.eos();
    });
    return starts;
  }

  it(`elements nested ${MAX_ELEMENT_DEPTH} deep are read; one more is too deep`, () => {
    const c = new ChunkBuilder();
    nested(c, 1, MAX_ELEMENT_DEPTH);
    const starts = nested(c, 2, MAX_ELEMENT_DEPTH + 1);
    addEvent(c, 3);
    const { events, diagnostics } = parseEvtx(evtxFile([c.finish()]), { source: SOURCE });
    expect(events.map((e) => e.recordId)).toEqual([1, 3]);
    const tooDeep = starts[MAX_ELEMENT_DEPTH] ?? 0;
    expect(diagnostics).toEqual([
      diagnostic(
        'error',
        'evtx/too-deep',
        C0 + tooDeep,
        `element nesting: expected at most ${MAX_ELEMENT_DEPTH} levels, found ${MAX_ELEMENT_DEPTH + 1} at ${hex(C0 + tooDeep)}; record skipped`,
        0,
        2,
      ),
    ]);
  });

  it('thousands of nested elements stop at the limit without exhausting the stack', () => {
    const c = new ChunkBuilder();
    const starts = nested(c, 1, 4000);
    const tooDeep = starts[MAX_ELEMENT_DEPTH] ?? 0;
    expect(run(evtxFile([c.finish()])).diagnostics).toEqual([
      diagnostic(
        'error',
        'evtx/too-deep',
        C0 + tooDeep,
        `element nesting: expected at most ${MAX_ELEMENT_DEPTH} levels, found ${MAX_ELEMENT_DEPTH + 1} at ${hex(C0 + tooDeep)}; record skipped`,
        0,
        1,
      ),
    ]);
  });

  it('BinXML values nested 20 deep are too deep, named at the template being expanded', () => {
    const c = new ChunkBuilder();
    const wrapper: TemplateSpec = {
      guid: hexBytes('22222222222222222222222222222222'),
      body: (x) => x.fragmentHeader().element('Wrap').close().sub(0, 0x21).end().eos(),
    };
    const value = (levels: number): { type: number; fragment: (x: BinXml) => void } => ({
      type: 0x21,
      fragment: (x) => {
        x.fragmentHeader();
        if (levels === 0) x.element('Leaf').close().text('bottom').end().eos();
        else x.instance(wrapper, [value(levels - 1)]).eos();
      },
    });
    c.record(1, (x) =>
      x
        .fragmentHeader()
        .instance(wrapper, [value(20)])
        .eos(),
    );
    const definition = c.templates.get(wrapper) ?? 0;
    addEvent(c, 2);
    // Instances and BinXML values each add a level, so the 16-level limit is reached inside the
    // ninth nested instance; instance nodes keep no position, so the definition is named.
    expect(run(evtxFile([c.finish()]))).toEqual({
      events: written([2]),
      diagnostics: [
        diagnostic(
          'error',
          'evtx/too-deep',
          C0 + definition,
          `template instance nesting: expected at most 16 levels, found more at ${hex(C0 + definition)}; record skipped`,
          0,
          1,
        ),
      ],
    });
  });

  it('a value count of 0xffffffff skips the record at the descriptors', () => {
    const c = chunkOf([1]);
    const definition = c.templates.get(eventTemplate) ?? 0;
    const at = c.pos;
    c.record(2, (x) =>
      x.fragmentHeader().raw(hexBytes('0c 01 00000000')).raw(le32(definition)).raw(le32(0xffffffff)),
    );
    addEvent(c, 3);
    // Token (1) + unknown byte (1) + template id (4) + definition offset (4) + value count (4).
    const descriptors = at + INSTANCE + 14;
    expect(run(evtxFile([c.finish()]))).toEqual({
      events: written([1, 3]),
      diagnostics: [
        diagnostic(
          'error',
          'evtx/bad-record',
          C0 + descriptors,
          // 17179869180 = 0xffffffff × 4 bytes per descriptor.
          `template value descriptors: expected 17179869180 bytes, found ${0x10000 - descriptors} left of 65536 at ${hex(C0 + descriptors)}; record skipped`,
          0,
          2,
        ),
      ],
    });
  });

  it('value sizes that run past the chunk skip the record at the values', () => {
    const c = chunkOf([1]);
    const definition = c.templates.get(eventTemplate) ?? 0;
    const at = c.pos;
    c.record(2, (x) =>
      x
        .fragmentHeader()
        .raw(hexBytes('0c 01 00000000'))
        .raw(le32(definition))
        .raw(le32(2))
        .raw(hexBytes('ffff 06 00  0200 01 00'))
        .raw(hexBytes('1000 6100'))
        .eos(),
    );
    addEvent(c, 3);
    const values = at + INSTANCE + 14 + 8;
    expect(run(evtxFile([c.finish()]))).toEqual({
      events: written([1, 3]),
      diagnostics: [
        diagnostic(
          'error',
          'evtx/bad-record',
          C0 + values,
          // 65535 + 2 bytes of values declared.
          `template values: expected 65537 bytes, found ${0x10000 - values} left of 65536 at ${hex(C0 + values)}; record skipped`,
          0,
          2,
        ),
      ],
    });
  });

  it('an element data size of 0xffffffff is refused at the size field', () => {
    const c = chunkOf([1]);
    const at = c.pos;
    const record = c.record(2, (x) => x.fragmentHeader().leaf('Event', 'x').eos());
    addEvent(c, 3);
    const chunk = c.finish();
    // Element token (1) and dependency id (2) come before the data size.
    const sizeField = at + BINXML + 4 + 3;
    view(chunk).setUint32(sizeField, 0xffffffff, true);
    const left = record.offset + record.size - 4 - (sizeField + 4); // up to the trailing size copy
    expect(run(evtxFile([resum(chunk)])).diagnostics).toEqual([
      diagnostic(
        'error',
        'evtx/bad-binxml',
        C0 + sizeField,
        `element data size: expected at most ${left} bytes, found 4294967295 at ${hex(C0 + sizeField)}; record skipped`,
        0,
        2,
      ),
    ]);
  });

  it('a name offset pointing outside the chunk is reported where it was read', () => {
    const c = chunkOf([1]);
    const at = c.pos;
    c.record(2, (x) => x.fragmentHeader().leaf('Elsewhere', 'x').eos());
    addEvent(c, 3);
    const chunk = c.finish();
    const nameField = at + BINXML + 4 + 7; // token, dependency id, data size
    view(chunk).setUint32(nameField, 0xfffffff0, true);
    expect(run(evtxFile([resum(chunk)])).diagnostics).toEqual([
      diagnostic(
        'error',
        'evtx/bad-binxml',
        C0 + nameField,
        `element name offset: expected an offset inside the chunk (0–0xfff8), found 0xfffffff0 at ${hex(C0 + nameField)}; record skipped`,
        0,
        2,
      ),
    ]);
  });

  it('an unknown token skips the record', () => {
    const { chunk, at } = between((x) => x.fragmentHeader().raw(hexBytes('3f')).eos());
    expect(run(evtxFile([chunk]))).toEqual({
      events: written([1, 3]),
      diagnostics: [
        diagnostic(
          'error',
          'evtx/bad-binxml',
          C0 + at + INSTANCE,
          `BinXML token: expected a token 0x00–0x0f (optionally | 0x40), found 0x3f at ${hex(C0 + at + INSTANCE)}; record skipped`,
          0,
          2,
        ),
      ],
    });
  });

  it('a value whose size does not fit its type skips the record', () => {
    const c = chunkOf([1]);
    const at = c.pos;
    c.record(2, (x) =>
      x
        .fragmentHeader()
        .instance(eventTemplate, [
          { type: 0x06, bytes: hexBytes('a10f') },
          { type: 0x08, bytes: hexBytes('010203') }, // uint32 in 3 bytes
        ])
        .eos(),
    );
    addEvent(c, 3);
    // Descriptors follow the referenced definition: count at +14, two descriptors, then 2 bytes of value 0.
    const value1 = at + INSTANCE + 14 + 8 + 2;
    expect(run(evtxFile([c.finish()]))).toEqual({
      events: written([1, 3]),
      diagnostics: [
        diagnostic(
          'error',
          'evtx/bad-value',
          C0 + value1,
          `substitution value: expected 4 bytes for value type 0x8, found 3 at ${hex(C0 + value1)}; record skipped`,
          0,
          2,
        ),
      ],
    });
  });

  it('a few kilobytes of templates that expand exponentially are refused, not rendered', () => {
    // Template k holds ten instances of template k+1, fifteen levels deep: 10^15 leaves if expanded.
    const c = new ChunkBuilder();
    const guid = new Uint8Array(16);
    let next: TemplateSpec | undefined;
    for (let k = 15; k >= 0; k--) {
      const inner = next;
      next = {
        guid,
        body: (x) => {
          x.fragmentHeader().element(`L${k}`).close();
          if (inner) for (let i = 0; i < 10; i++) x.instance(inner, []);
          else x.text('x');
          x.end().eos();
        },
      };
    }
    const top = next as TemplateSpec;
    const at = c.pos;
    c.record(1, (x) => x.fragmentHeader().instance(top, []).eos());
    addEvent(c, 2);
    const started = performance.now();
    const result = run(evtxFile([c.finish()]));
    // A hang detector, not a speed target: without the output bound this never finishes.
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(result).toEqual({
      events: written([2]),
      diagnostics: [
        diagnostic(
          'error',
          'evtx/too-large',
          C0 + at + BINXML,
          `rendered record: expected at most 4194304 characters once templates and values are expanded, found more at ${hex(C0 + at + BINXML)}; record skipped`,
          0,
          1,
        ),
      ],
    });
  });
});
