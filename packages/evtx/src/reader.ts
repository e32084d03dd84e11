// Reads an EVTX file (MS-EVEN6 §2.2): the file header, then each 64 KiB chunk with its
// records. Corruption costs only the unit it is in — a record or a chunk — and is reported as
// a diagnostic; records beyond what the headers count are recovered and reported too.
import { open } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { ByteReader, formatOffset, hexPreview, ParseError } from '@palisade/binary';
import { ChunkParser } from './binxml.ts';
import type { EvtxDiagnostic, EvtxDiagnosticCode } from './diagnostics.ts';
import { EventBuilder, type EvtxEvent } from './event.ts';
import { walk } from './walk.ts';
import { XmlWriter } from './xml.ts';

export const FILE_HEADER_SIZE = 4096;
export const CHUNK_SIZE = 65536;
const CHUNK_HEADER_SIZE = 512;
const RECORD_HEADER_SIZE = 24;
const RECORD_MAGIC = 0x00002a2a;
// "ElfFile\0" and "ElfChnk\0" read as little-endian 32-bit words.
const FILE_MAGIC = [0x46666c45, 0x00656c69] as const;
const CHUNK_MAGIC = [0x43666c45, 0x006b6e68] as const;

/** How to read a file. */
export interface ReadOptions {
  /** Name used in diagnostics; defaults to the path, or `<buffer>`. */
  readonly source?: string;
  /** Also render each record's XML into `event.xml`. */
  readonly xml?: boolean;
  /** Called for every diagnostic, in file order. */
  readonly onDiagnostic?: (diagnostic: EvtxDiagnostic) => void;
}

/** The file header (MS-EVEN6 §2.2.1). */
export interface FileHeader {
  readonly firstChunkNumber: number;
  readonly lastChunkNumber: number;
  readonly nextRecordId: number;
  readonly headerSize: number;
  readonly minorVersion: number;
  readonly majorVersion: number;
  readonly headerBlockSize: number;
  readonly chunkCount: number;
  readonly flags: number;
  /** Flag 0x1: the file was not closed cleanly, so its counts may lag behind its contents. */
  readonly dirty: boolean;
  /** Flag 0x2: the log reached its maximum size. */
  readonly full: boolean;
  readonly checksumValid: boolean;
}

/** The header of one chunk (MS-EVEN6 §2.2.2). */
export interface ChunkHeader {
  readonly firstRecordNumber: number;
  readonly lastRecordNumber: number;
  readonly firstRecordId: number;
  readonly lastRecordId: number;
  readonly lastRecordOffset: number;
  readonly freeSpaceOffset: number;
  readonly recordsChecksum: number;
  readonly headerChecksum: number;
}

/** What a whole read found, besides the records. */
export interface ReadSummary {
  records: number;
  recovered: number;
  chunks: number;
  errors: number;
  warnings: number;
}

type Report = (
  severity: EvtxDiagnostic['severity'],
  code: EvtxDiagnosticCode,
  offset: number,
  message: string,
  chunk?: number,
  recordId?: number,
) => void;

function reporter(source: string, options: ReadOptions, summary: ReadSummary): Report {
  return (severity, code, offset, message, chunk, recordId) => {
    if (severity === 'error') summary.errors++;
    if (severity === 'warning') summary.warnings++;
    const d: { -readonly [K in keyof EvtxDiagnostic]: EvtxDiagnostic[K] } = {
      severity,
      code,
      message,
      source,
      offset,
    };
    if (chunk !== undefined) d.chunk = chunk;
    if (recordId !== undefined) d.recordId = recordId;
    options.onDiagnostic?.(d);
  };
}

function hasMagic(r: ByteReader, offset: number, magic: readonly [number, number]): boolean {
  return r.view.getUint32(offset, true) === magic[0] && r.view.getUint32(offset + 4, true) === magic[1];
}

/** Reads and checks the file header; returns undefined when its magic is wrong. */
export function readFileHeader(bytes: Uint8Array): FileHeader | undefined {
  if (bytes.length < 128) return undefined;
  const r = new ByteReader(bytes);
  if (!hasMagic(r, 0, FILE_MAGIC)) return undefined;
  const flags = r.u32le(120, 'file flags');
  return {
    firstChunkNumber: r.u64leNumber(8, 'first chunk number'),
    lastChunkNumber: r.u64leNumber(16, 'last chunk number'),
    nextRecordId: r.u64leNumber(24, 'next record identifier'),
    headerSize: r.u32le(32, 'header size'),
    minorVersion: r.u16le(36, 'minor version'),
    majorVersion: r.u16le(38, 'major version'),
    headerBlockSize: r.u16le(40, 'header block size'),
    chunkCount: r.u16le(42, 'number of chunks'),
    flags,
    dirty: (flags & 1) !== 0,
    full: (flags & 2) !== 0,
    checksumValid: crc32(bytes.subarray(0, 120)) === r.u32le(124, 'file header checksum'),
  };
}

/** Reads a chunk header; the caller has checked the magic. */
export function readChunkHeader(r: ByteReader): ChunkHeader {
  return {
    firstRecordNumber: r.u64leNumber(8, 'first event record number'),
    lastRecordNumber: r.u64leNumber(16, 'last event record number'),
    firstRecordId: r.u64leNumber(24, 'first event record identifier'),
    lastRecordId: r.u64leNumber(32, 'last event record identifier'),
    lastRecordOffset: r.u32le(44, 'last event record data offset'),
    freeSpaceOffset: r.u32le(48, 'free space offset'),
    recordsChecksum: r.u32le(52, 'event records checksum'),
    headerChecksum: r.u32le(124, 'chunk header checksum'),
  };
}

/** Checks the file header and reports what it says about the file; returns its chunk count. */
function checkFileHeader(bytes: Uint8Array, fileSize: number, report: Report): number | undefined {
  const header = readFileHeader(bytes);
  if (!header) {
    // A header cut short of 128 bytes is already reported as a truncated file; the magic may be right.
    if (bytes.length >= 8 && hasMagic(new ByteReader(bytes), 0, FILE_MAGIC)) return undefined;
    report(
      'error',
      'evtx/bad-file-magic',
      0,
      `expected file magic ElfFile, found ${hexPreview(bytes, 0, 8)}; looking for chunks anyway`,
    );
    return undefined;
  }
  if (!header.checksumValid)
    report('warning', 'evtx/file-header-crc', 124, 'file header checksum does not match its first 120 bytes');
  if (header.majorVersion !== 3) {
    report(
      'warning',
      'evtx/bad-file-header',
      38,
      `expected format version 3.x, found ${header.majorVersion}.${header.minorVersion}`,
    );
  }
  if (header.dirty)
    report(
      'info',
      'evtx/dirty-file',
      120,
      'file is marked dirty (not closed cleanly); records past its counts are recovered',
    );
  const chunksInFile = Math.ceil(Math.max(0, fileSize - FILE_HEADER_SIZE) / CHUNK_SIZE);
  if (chunksInFile < header.chunkCount) {
    report(
      'error',
      'evtx/truncated-file',
      fileSize,
      `header counts ${header.chunkCount} chunks, file holds ${chunksInFile}`,
    );
  }
  return header.chunkCount;
}

/** Per-file state shared by its chunks. */
interface FileContext {
  readonly source: string;
  readonly xml: boolean;
  readonly report: Report;
  readonly summary: ReadSummary;
  /** Chunks the file header counts; undefined when the header is unreadable. */
  readonly countedChunks: number | undefined;
}

/**
 * Parses one chunk and returns its events. `bytes` may be shorter than a chunk when the file
 * is truncated; what fits is read.
 */
function readChunk(bytes: Uint8Array, index: number, fileOffset: number, ctx: FileContext): EvtxEvent[] {
  const { report } = ctx;
  const r = new ByteReader(bytes, fileOffset);
  const counted = ctx.countedChunks === undefined || index < ctx.countedChunks;
  if (bytes.length < CHUNK_HEADER_SIZE || !hasMagic(r, 0, CHUNK_MAGIC)) {
    // Space the log has not used yet is zero or stale; only a counted chunk must be valid.
    if (counted && ctx.countedChunks !== undefined) {
      report(
        'error',
        'evtx/bad-chunk-magic',
        fileOffset,
        `expected chunk magic ElfChnk, found ${hexPreview(bytes, 0, 8)}; chunk skipped`,
        index,
      );
    }
    return [];
  }
  ctx.summary.chunks++;
  const header = readChunkHeader(r);
  const headerCrc = crc32(bytes.subarray(128, CHUNK_HEADER_SIZE), crc32(bytes.subarray(0, 120)));
  if (headerCrc !== header.headerChecksum) {
    report(
      'warning',
      'evtx/chunk-header-crc',
      fileOffset + 124,
      `chunk header checksum 0x${header.headerChecksum.toString(16)} does not match computed 0x${headerCrc.toString(16)}`,
      index,
    );
  }
  let freeSpace = header.freeSpaceOffset;
  if (freeSpace < CHUNK_HEADER_SIZE || freeSpace > CHUNK_SIZE) {
    report(
      'warning',
      'evtx/bad-chunk-header',
      fileOffset + 48,
      `free space offset 0x${freeSpace.toString(16)} outside 0x200–0x10000; reading records until the first invalid one`,
      index,
    );
    freeSpace = CHUNK_HEADER_SIZE;
  } else if (freeSpace <= bytes.length) {
    const recordsCrc = crc32(bytes.subarray(CHUNK_HEADER_SIZE, freeSpace));
    if (recordsCrc !== header.recordsChecksum) {
      report(
        'warning',
        'evtx/chunk-records-crc',
        fileOffset + 52,
        `event records checksum 0x${header.recordsChecksum.toString(16)} does not match computed 0x${recordsCrc.toString(16)}`,
        index,
      );
    }
  } else {
    // A file cut inside its last chunk: records past the cut are gone even when no frame is broken.
    report(
      'error',
      'evtx/truncated-file',
      fileOffset + bytes.length,
      `chunk ends after ${bytes.length} bytes, before its free space offset 0x${freeSpace.toString(16)}; the records past its end are lost`,
      index,
    );
  }
  if (!counted)
    report(
      'info',
      'evtx/recovered-chunk',
      fileOffset,
      `chunk ${index} is past the ${ctx.countedChunks} chunks the file header counts; its records are recovered`,
      index,
    );

  const parser = new ChunkParser(r);
  const events: EvtxEvent[] = [];
  let recovered = 0;
  let unrecoverable = 0;
  let p = CHUNK_HEADER_SIZE;
  while (p + RECORD_HEADER_SIZE + 4 <= bytes.length) {
    const inAllocated = p < freeSpace;
    const problem = checkRecordFrame(r, p, bytes.length);
    if (problem !== undefined) {
      // Past the free-space offset a bad frame is just the end of the written data.
      if (!inAllocated) break;
      const next = findNextRecord(r, p + 1, freeSpace);
      report(
        'error',
        problem.code,
        fileOffset + p,
        `${problem.message}; ${next === undefined ? 'rest of chunk skipped' : `skipped ${next - p} bytes to the next record`}`,
        index,
        problem.recordId,
      );
      if (next === undefined) break;
      p = next;
      continue;
    }
    const size = r.view.getUint32(p + 4, true);
    const recordId = r.u64leNumber(p + 8, 'event record identifier');
    const isRecovered = !counted || !inAllocated || p > header.lastRecordOffset;
    try {
      const event = readRecord(parser, p, size, recordId, ctx.xml);
      if (isRecovered) {
        event.recovered = true;
        recovered++;
      }
      events.push(event);
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      // Stale records in free space often point at templates that were overwritten since.
      if (!inAllocated) {
        unrecoverable++;
        p += size;
        continue;
      }
      const code: EvtxDiagnosticCode = isEvtxCode(e.code) ? e.code : 'evtx/bad-record';
      report('error', code, e.offset, `${e.message}; record skipped`, index, recordId);
    }
    p += size;
  }
  if (recovered > 0 && counted) {
    report(
      'info',
      'evtx/recovered-records',
      fileOffset + 44,
      `${recovered} record${recovered === 1 ? '' : 's'} past the chunk header's last record recovered`,
      index,
    );
  }
  if (unrecoverable > 0) {
    report(
      'info',
      'evtx/unrecoverable-records',
      fileOffset + freeSpace,
      `${unrecoverable} stale record${unrecoverable === 1 ? '' : 's'} in the chunk's free space could not be decoded (their templates were overwritten)`,
      index,
    );
  }
  ctx.summary.records += events.length;
  ctx.summary.recovered += recovered;
  return events;
}

function isEvtxCode(code: string): code is EvtxDiagnosticCode {
  return code.startsWith('evtx/');
}

// A record frame (MS-EVEN6 §2.2.3): magic, size, id, written time, BinXML, size again.
function checkRecordFrame(
  r: ByteReader,
  p: number,
  limit: number,
): { code: EvtxDiagnosticCode; message: string; recordId?: number } | undefined {
  const v = r.view;
  const magic = v.getUint32(p, true);
  if (magic !== RECORD_MAGIC)
    return {
      code: 'evtx/bad-record',
      message: `expected record magic 2a 2a 00 00, found ${hexPreview(r.bytes, p, 4)}`,
    };
  // With the magic right the identifier is probably right too, and names the record.
  const recordId = r.u64leNumber(p + 8, 'event record identifier');
  const size = v.getUint32(p + 4, true);
  if (size < RECORD_HEADER_SIZE + 4 + 1)
    return {
      code: 'evtx/bad-record',
      message: `record size ${size} is smaller than a record header`,
      recordId,
    };
  if (p + size > limit)
    return {
      code: 'evtx/truncated-record',
      message: `record size ${size} runs past the chunk end (${limit - p} bytes left)`,
      recordId,
    };
  const copy = v.getUint32(p + size - 4, true);
  if (copy !== size)
    return {
      code: 'evtx/bad-record',
      message: `record size ${size} does not match its trailing copy ${copy}`,
      recordId,
    };
  return undefined;
}

function findNextRecord(r: ByteReader, from: number, limit: number): number | undefined {
  const b = r.bytes;
  const end = Math.min(limit, b.length) - RECORD_HEADER_SIZE - 4;
  for (let p = from; p <= end; p++) {
    if (
      b[p] === 0x2a &&
      b[p + 1] === 0x2a &&
      b[p + 2] === 0 &&
      b[p + 3] === 0 &&
      checkRecordFrame(r, p, b.length) === undefined
    )
      return p;
  }
  return undefined;
}

function readRecord(parser: ChunkParser, p: number, size: number, recordId: number, xml: boolean): EvtxEvent {
  const r = parser.reader;
  const writtenTime = r.filetimeIso(p + 16, 'record written time');
  const nodes = parser.parseFragment(p + RECORD_HEADER_SIZE, p + size - 4, true, 0);
  const builder = new EventBuilder();
  walk(parser, nodes, builder, p + RECORD_HEADER_SIZE);
  const event = builder.build(recordId, writtenTime);
  if (xml) {
    const writer = new XmlWriter();
    walk(parser, nodes, writer, p + RECORD_HEADER_SIZE);
    event.xml = writer.toString();
  }
  return event;
}

function newSummary(): ReadSummary {
  return { records: 0, recovered: 0, chunks: 0, errors: 0, warnings: 0 };
}

/**
 * Parses a whole EVTX file held in memory; diagnostics are returned beside the events.
 * @example const { events, diagnostics } = parseEvtx(bytes)
 */
export function parseEvtx(
  bytes: Uint8Array,
  options: ReadOptions = {},
): { events: EvtxEvent[]; diagnostics: EvtxDiagnostic[]; summary: ReadSummary } {
  const diagnostics: EvtxDiagnostic[] = [];
  const events: EvtxEvent[] = [];
  const summary = newSummary();
  const forward = options.onDiagnostic;
  const onDiagnostic = (d: EvtxDiagnostic) => {
    diagnostics.push(d);
    forward?.(d);
  };
  const ctx = fileContext(
    bytes.subarray(0, FILE_HEADER_SIZE),
    bytes.length,
    { ...options, onDiagnostic },
    summary,
    options.source ?? '<buffer>',
  );
  for (let offset = FILE_HEADER_SIZE, index = 0; offset < bytes.length; offset += CHUNK_SIZE, index++) {
    for (const event of readChunk(bytes.subarray(offset, offset + CHUNK_SIZE), index, offset, ctx))
      events.push(event);
  }
  return { events, diagnostics, summary };
}

function fileContext(
  headerBytes: Uint8Array,
  fileSize: number,
  options: ReadOptions,
  summary: ReadSummary,
  source: string,
): FileContext {
  const report = reporter(source, options, summary);
  if (fileSize < FILE_HEADER_SIZE) {
    report(
      'error',
      'evtx/truncated-file',
      fileSize,
      `file is ${fileSize} bytes, shorter than the ${FILE_HEADER_SIZE}-byte file header`,
    );
  }
  const countedChunks = checkFileHeader(headerBytes, fileSize, report);
  return { source, xml: options.xml === true, report, summary, countedChunks };
}

/** Chunks read per file system call: large enough to amortise the call, small enough to stay flat. */
const CHUNKS_PER_READ = 16;

/**
 * Streams the events of an EVTX file chunk by chunk; memory stays flat whatever the file's
 * size. Yields one array of events per chunk. The returned summary counts what was read.
 */
export async function* readEvtxChunks(
  path: string,
  options: ReadOptions = {},
): AsyncGenerator<EvtxEvent[], ReadSummary> {
  const summary = newSummary();
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const headerBytes = new Uint8Array(Math.min(size, FILE_HEADER_SIZE));
    await readFully(handle, headerBytes, 0);
    const ctx = fileContext(headerBytes, size, options, summary, options.source ?? path);
    // Small files are common (exported incidents): size the buffer to the file, up to 1 MiB.
    const buffer = new Uint8Array(
      Math.max(0, Math.min(CHUNK_SIZE * CHUNKS_PER_READ, size - FILE_HEADER_SIZE)),
    );
    let index = 0;
    for (let offset = FILE_HEADER_SIZE; offset < size; offset += buffer.length) {
      const length = Math.min(buffer.length, size - offset);
      await readFully(handle, buffer.subarray(0, length), offset);
      for (let c = 0; c < length; c += CHUNK_SIZE, index++) {
        const events = readChunk(
          buffer.subarray(c, Math.min(length, c + CHUNK_SIZE)),
          index,
          offset + c,
          ctx,
        );
        if (events.length > 0) yield events;
      }
    }
  } finally {
    await handle.close();
  }
  return summary;
}

/**
 * Streams the events of an EVTX file one at a time.
 * @example for await (const event of readEvtx('Security.evtx')) console.log(event.system.eventId)
 */
export async function* readEvtx(
  path: string,
  options: ReadOptions = {},
): AsyncGenerator<EvtxEvent, ReadSummary> {
  const chunks = readEvtxChunks(path, options);
  for (;;) {
    const next = await chunks.next();
    if (next.done) return next.value;
    yield* next.value;
  }
}

async function readFully(
  handle: Awaited<ReturnType<typeof open>>,
  target: Uint8Array,
  position: number,
): Promise<void> {
  let done = 0;
  while (done < target.length) {
    const { bytesRead } = await handle.read(target, done, target.length - done, position + done);
    if (bytesRead === 0) throw new Error(`unexpected end of file at ${formatOffset(position + done)}`);
    done += bytesRead;
  }
}
