// Builds synthetic EVTX files for tests, written from MS-EVEN6 §2.2 and §3.1.4 rather than from
// the parser: a file header, 64 KiB chunks and records with correct CRC32s, and BinXML tokens
// written at their final chunk offsets so names and templates can be inline or referenced.
import { crc32 } from 'node:zlib';

export const FILE_HEADER_SIZE = 4096;
export const CHUNK_SIZE = 65536;
export const CHUNK_HEADER_SIZE = 512;

/** A FILETIME for records whose time does not matter: 2019-08-14T14:06:44.4956748Z, from Python
 * (datetime(2019, 8, 14, 14, 6, 44, 495674) - datetime(1601, 1, 1)) in 100 ns ticks, plus 8. */
export const SOME_FILETIME = 132102652044956748n;

/** One substitution value: its type code and bytes, or (type 0x21) a BinXML fragment written in place. */
export type Value =
  | { readonly type: number; readonly bytes: Uint8Array }
  | { readonly type: number; readonly fragment: (x: BinXml) => void };

/** A template definition: the GUID's 16 bytes and a body written with a fragment header and EOS. */
export interface TemplateSpec {
  readonly guid: Uint8Array;
  readonly body: (x: BinXml) => void;
}

/** Where a record landed in its chunk (chunk-relative offsets). */
export interface BuiltRecord {
  readonly id: number;
  readonly offset: number;
  readonly size: number;
}

/** Writes one chunk: records appended from offset 0x200, header and checksums on `finish`. */
export class ChunkBuilder {
  readonly bytes = new Uint8Array(CHUNK_SIZE);
  readonly view = new DataView(this.bytes.buffer);
  readonly records: BuiltRecord[] = [];
  pos = CHUNK_HEADER_SIZE;
  readonly names = new Map<string, number>();
  readonly templates = new Map<TemplateSpec, number>();

  u8(v: number): this {
    this.ensure(1);
    this.view.setUint8(this.pos, v);
    this.pos += 1;
    return this;
  }
  u16(v: number): this {
    this.ensure(2);
    this.view.setUint16(this.pos, v, true);
    this.pos += 2;
    return this;
  }
  u32(v: number): this {
    this.ensure(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
    return this;
  }
  u64(v: bigint): this {
    this.ensure(8);
    this.view.setBigUint64(this.pos, v, true);
    this.pos += 8;
    return this;
  }
  raw(bytes: Uint8Array): this {
    this.ensure(bytes.length);
    this.bytes.set(bytes, this.pos);
    this.pos += bytes.length;
    return this;
  }

  /** Appends a record (MS-EVEN6 §2.2.3) whose BinXML `body` writes; returns where it landed. */
  record(id: number, body: (x: BinXml) => void, writtenTime = SOME_FILETIME): BuiltRecord {
    const offset = this.pos;
    this.u32(0x00002a2a).u32(0).u64(BigInt(id)).u64(writtenTime);
    body(new BinXml(this, true));
    const size = this.pos - offset + 4;
    this.u32(size);
    this.view.setUint32(offset + 4, size, true);
    const record = { id, offset, size };
    this.records.push(record);
    return record;
  }

  /**
   * Writes the chunk header (MS-EVEN6 §2.2.2) and both checksums. The last record offset and
   * free space offset default to what was written.
   */
  finish(options: { lastRecordOffset?: number; freeSpaceOffset?: number } = {}): Uint8Array {
    const v = this.view;
    const first = this.records[0];
    const last = this.records[this.records.length - 1];
    this.bytes.set(ascii('ElfChnk\0'), 0);
    v.setBigUint64(8, BigInt(first?.id ?? 0), true); // first event record number
    v.setBigUint64(16, BigInt(last?.id ?? 0), true); // last event record number
    v.setBigUint64(24, BigInt(first?.id ?? 0), true); // first event record identifier
    v.setBigUint64(32, BigInt(last?.id ?? 0), true); // last event record identifier
    v.setUint32(40, 128, true); // header size
    v.setUint32(44, options.lastRecordOffset ?? last?.offset ?? 0, true);
    v.setUint32(48, options.freeSpaceOffset ?? this.pos, true);
    writeRecordsChecksum(this.bytes);
    writeChunkHeaderChecksum(this.bytes);
    return this.bytes;
  }

  private ensure(size: number): void {
    if (this.pos + size > CHUNK_SIZE) throw new Error(`test chunk overflows at 0x${this.pos.toString(16)}`);
  }
}

/** Recomputes a chunk's records checksum: CRC32 of 0x200..free space, stored at 52. */
export function writeRecordsChecksum(chunk: Uint8Array): void {
  const v = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  const free = Math.min(v.getUint32(48, true), chunk.length);
  v.setUint32(52, crc32(chunk.subarray(CHUNK_HEADER_SIZE, Math.max(CHUNK_HEADER_SIZE, free))), true);
}

/** Recomputes a chunk's header checksum: CRC32 of bytes 0..120 then 128..512, stored at 124. */
export function writeChunkHeaderChecksum(chunk: Uint8Array): void {
  const v = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  v.setUint32(124, crc32(chunk.subarray(128, CHUNK_HEADER_SIZE), crc32(chunk.subarray(0, 120))), true);
}

/** A file header (MS-EVEN6 §2.2.1) followed by the chunks; counts default to the chunks given. */
export function evtxFile(
  chunks: readonly Uint8Array[],
  options: { chunkCount?: number; flags?: number; nextRecordId?: number } = {},
): Uint8Array {
  const file = new Uint8Array(FILE_HEADER_SIZE + chunks.length * CHUNK_SIZE);
  const v = new DataView(file.buffer);
  file.set(ascii('ElfFile\0'), 0);
  v.setBigUint64(8, 0n, true); // first chunk number
  v.setBigUint64(16, BigInt(Math.max(0, chunks.length - 1)), true); // last chunk number
  v.setBigUint64(24, BigInt(options.nextRecordId ?? 1), true);
  v.setUint32(32, 128, true); // header size
  v.setUint16(36, 1, true); // minor version
  v.setUint16(38, 3, true); // major version
  v.setUint16(40, FILE_HEADER_SIZE, true); // header block size
  v.setUint16(42, options.chunkCount ?? chunks.length, true);
  v.setUint32(120, options.flags ?? 0, true);
  writeFileChecksum(file);
  chunks.forEach((chunk, i) => {
    file.set(chunk.subarray(0, CHUNK_SIZE), FILE_HEADER_SIZE + i * CHUNK_SIZE);
  });
  return file;
}

/** Recomputes the file header checksum: CRC32 of bytes 0..120, stored at 124. */
export function writeFileChecksum(file: Uint8Array): void {
  new DataView(file.buffer, file.byteOffset).setUint32(124, crc32(file.subarray(0, 120)), true);
}

/**
 * Writes BinXML tokens (MS-EVEN6 §3.1.4) into a chunk. Element tokens carry a dependency
 * identifier except inside BinXML (0x21) values, which a writer with `dependencyIds` false writes.
 */
export class BinXml {
  private readonly open: number[] = [];

  constructor(
    readonly chunk: ChunkBuilder,
    readonly dependencyIds: boolean,
  ) {}

  /** The chunk offset the next token lands at. */
  get pos(): number {
    return this.chunk.pos;
  }

  fragmentHeader(): this {
    this.chunk.u8(0x0f).u8(1).u8(1).u8(0);
    return this;
  }

  /** OpenStartElement, its name, and attributes as [name, value writer] pairs; ends at `close`/`closeEmpty`. */
  element(name: string, attributes: readonly (readonly [string, (x: BinXml) => void])[] = []): this {
    const c = this.chunk;
    c.u8(attributes.length > 0 ? 0x41 : 0x01);
    if (this.dependencyIds) c.u16(0xffff);
    this.open.push(c.pos);
    c.u32(0); // data size, patched when the element ends
    this.name(name);
    if (attributes.length > 0) {
      const listSize = c.pos;
      c.u32(0);
      attributes.forEach(([attribute, value], i) => {
        c.u8(i < attributes.length - 1 ? 0x46 : 0x06);
        this.name(attribute);
        value(this);
      });
      c.view.setUint32(listSize, c.pos - listSize - 4, true);
    }
    return this;
  }

  /** CloseStartElement: content follows, then `end`. */
  close(): this {
    this.chunk.u8(0x02);
    return this;
  }

  /** CloseEmptyElement: the element has no content. */
  closeEmpty(): this {
    this.chunk.u8(0x03);
    return this.patchElementSize();
  }

  /** EndElement. */
  end(): this {
    this.chunk.u8(0x04);
    return this.patchElementSize();
  }

  /** `<name>text</name>` in one call. */
  leaf(name: string, text: string): this {
    return this.element(name).close().text(text).end();
  }

  /** EndOfStream. */
  eos(): this {
    this.chunk.u8(0x00);
    return this;
  }

  /** A value text token: string type, character count, UTF-16LE. */
  text(s: string): this {
    this.chunk.u8(0x05).u8(0x01).u16(s.length).raw(utf16(s));
    return this;
  }

  /** A normal (0x0d) or optional (0x0e) substitution of value `index` of `type`. */
  sub(index: number, type: number, optional = false): this {
    this.chunk
      .u8(optional ? 0x0e : 0x0d)
      .u16(index)
      .u8(type);
    return this;
  }

  cdata(s: string): this {
    this.chunk.u8(0x07).u16(s.length).raw(utf16(s));
    return this;
  }

  charRef(code: number): this {
    this.chunk.u8(0x08).u16(code);
    return this;
  }

  entityRef(name: string): this {
    this.chunk.u8(0x09);
    return this.name(name);
  }

  /** A processing instruction: PITarget with its name, then PIData. */
  pi(target: string, data: string): this {
    this.chunk.u8(0x0a);
    this.name(target);
    this.chunk.u8(0x0b).u16(data.length).raw(utf16(data));
    return this;
  }

  /** A template instance: the definition inline on first use in the chunk, else by its offset. */
  instance(template: TemplateSpec, values: readonly Value[]): this {
    const c = this.chunk;
    const known = c.templates.get(template);
    c.u8(0x0c).u8(0x01).u32(0); // token, unknown byte, template identifier
    if (known !== undefined) c.u32(known);
    else {
      const definition = c.pos + 4;
      c.u32(definition);
      c.templates.set(template, definition);
      c.u32(0).raw(template.guid); // next template offset, GUID
      const sizeAt = c.pos;
      c.u32(0);
      template.body(new BinXml(c, true));
      c.view.setUint32(sizeAt, c.pos - sizeAt - 4, true);
    }
    return this.values(values);
  }

  /** A template instance pointing at an arbitrary definition offset (for corrupt cases). */
  instanceAt(definitionOffset: number, values: readonly Value[]): this {
    this.chunk.u8(0x0c).u8(0x01).u32(0).u32(definitionOffset);
    return this.values(values);
  }

  raw(bytes: Uint8Array): this {
    this.chunk.raw(bytes);
    return this;
  }

  // Value count, descriptors {u16 size, u8 type, u8 0}, then the values (MS-EVEN6 §3.1.4.4).
  private values(values: readonly Value[]): this {
    const c = this.chunk;
    c.u32(values.length);
    const descriptors = c.pos;
    for (const value of values) c.u16(0).u8(value.type).u8(0);
    values.forEach((value, i) => {
      const start = c.pos;
      if ('bytes' in value) c.raw(value.bytes);
      else value.fragment(new BinXml(c, false));
      c.view.setUint16(descriptors + i * 4, c.pos - start, true);
    });
    return this;
  }

  // A name reference; the name structure follows inline on first use in the chunk (§3.1.4.2).
  private name(name: string): this {
    const c = this.chunk;
    const known = c.names.get(name);
    if (known !== undefined) {
      c.u32(known);
      return this;
    }
    c.u32(c.pos + 4);
    c.names.set(name, c.pos);
    c.u32(0).u16(nameHash(name)).u16(name.length).raw(utf16(name)).u16(0);
    return this;
  }

  private patchElementSize(): this {
    const at = this.open.pop();
    if (at === undefined) throw new Error('element end without a start');
    this.chunk.view.setUint32(at, this.chunk.pos - at - 4, true);
    return this;
  }
}

// MS-EVEN6 §3.1.4.2: hash = hash * 65599 + code unit, low 16 bits stored.
function nameHash(name: string): number {
  let hash = 0;
  for (let i = 0; i < name.length; i++) hash = (Math.imul(hash, 65599) + name.charCodeAt(i)) >>> 0;
  return hash & 0xffff;
}

/** UTF-16LE bytes of a string, without a terminator. */
export function utf16(s: string): Uint8Array {
  const out = new Uint8Array(s.length * 2);
  const v = new DataView(out.buffer);
  for (let i = 0; i < s.length; i++) v.setUint16(i * 2, s.charCodeAt(i), true);
  return out;
}

/** A 32-bit little-endian value's bytes. */
export function le32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n >>> 0, true);
  return out;
}

/** Bytes of a hex string such as `2a 2a 00 00` (spaces ignored). */
export function hexBytes(hex: string): Uint8Array {
  const clean = hex.replaceAll(' ', '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (ch) => ch.charCodeAt(0));
}
