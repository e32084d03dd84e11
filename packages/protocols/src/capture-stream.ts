// Reads a capture that arrives as a byte stream (tcpdump's `-w -` output on a pipe, a socket, a
// file read in pieces) into frames as soon as each record is complete, whatever the chunk
// boundaries. Classic pcap and pcapng; memory is bounded by the largest record allowed.
import { hexPreview, ParseError } from '@palisade/binary';
import { type OnCaptureDiagnostic, parseErrorMessage } from './capture-diagnostics.ts';
import type { CapturedFrame } from './capture-frame.ts';
import { isPcap, PCAP_HEADER_SIZE, type PcapHeader, readPcapHeader } from './capture-pcap.ts';
import { isPcapng, readPcapngFrames } from './capture-pcapng.ts';
import type { CaptureFormat } from './capture-reader.ts';

/** libpcap's MAXIMUM_SNAPLEN: no capture tool writes a longer record. */
export const MAX_STREAM_RECORD = 262_144;
// pcapng blocks that are kept (section and interface headers, packets): a record and its options.
const MAX_PCAPNG_BLOCK = MAX_STREAM_RECORD + 65_536;
const RECORD_HEADER_SIZE = 16;
const BLOCK_HEAD_SIZE = 12;
const SECTION_HEADER = 0x0a0d0d0a;
const INTERFACE_DESCRIPTION = 0x00000001;
const PACKET = 0x00000002;
const SIMPLE_PACKET = 0x00000003;
const ENHANCED_PACKET = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

type Step =
  | { readonly kind: 'start' }
  | { readonly kind: 'record-header' }
  | {
      readonly kind: 'record-data';
      readonly timestampUs: number;
      readonly included: number;
      readonly original: number;
    }
  | { readonly kind: 'block-head' }
  | { readonly kind: 'block-body'; readonly type: number; readonly head: Uint8Array; readonly total: number }
  | { readonly kind: 'block-skip'; readonly left: number };

/**
 * An incremental pcap/pcapng reader: `push` byte chunks as they arrive, get the frames they
 * complete. Each frame's `data` is a copy, so the caller may reuse its chunks. Damage is reported
 * like the whole-file readers do, but a damaged record or block ends the stream instead of a
 * search for the next plausible one: on a pipe the bytes after it cannot be re-read, and a
 * false match would turn the rest of the capture into garbage frames.
 * @example
 * const reader = new CaptureStreamReader({ onDiagnostic: report });
 * tcpdump.stdout.on('data', (chunk) => { for (const frame of reader.push(chunk)) decoder.push(frame); });
 * tcpdump.stdout.on('end', () => { for (const frame of reader.finish()) decoder.push(frame); });
 */
export class CaptureStreamReader {
  readonly #report: OnCaptureDiagnostic;
  #step: Step = { kind: 'start' };
  #format: CaptureFormat | undefined;
  #stopped = false;
  // Bytes of the current step that arrived in earlier chunks, copied out of them.
  #carry = new Uint8Array(PCAP_HEADER_SIZE);
  #carried = 0;
  // Absolute offset of the current step's first byte.
  #position = 0;
  #index = 0;
  #pcap: PcapHeader | undefined;
  #maxRecord = MAX_STREAM_RECORD;
  #littleEndian = true;
  // The current pcapng section's header and interface blocks, put in front of each packet block.
  #section: Uint8Array[] = [];
  #sectionLength = 0;
  #lastTimestampUs = 0;

  constructor(options: { readonly onDiagnostic?: OnCaptureDiagnostic } = {}) {
    this.#report = options.onDiagnostic ?? (() => {});
  }

  /** The stream's format once its first bytes are read; `unknown` when they are neither. */
  get format(): CaptureFormat | undefined {
    return this.#format;
  }

  /** True once damage ended the stream: later chunks are ignored. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** The classic pcap file header, once read. */
  get pcapHeader(): PcapHeader | undefined {
    return this.#pcap;
  }

  /** Takes the next chunk; returns the frames it completes, possibly none. */
  push(chunk: Uint8Array): CapturedFrame[] {
    const frames: CapturedFrame[] = [];
    let at = 0;
    while (!this.#stopped) {
      const step = this.#step;
      if (step.kind === 'block-skip') {
        // Blocks nobody reads are passed over without being kept.
        const take = Math.min(step.left, chunk.length - at);
        at += take;
        this.#position += take;
        if (take === step.left) this.#step = { kind: 'block-head' };
        else this.#step = { kind: 'block-skip', left: step.left - take };
        if (at === chunk.length) break;
        continue;
      }
      const need = this.#need(step);
      if (this.#carried === 0 && chunk.length - at >= need) {
        // The common case: the whole unit is in this chunk; read it in place.
        const unit = chunk.subarray(at, at + need);
        at += need;
        this.#consume(step, unit, frames);
        continue;
      }
      if (at === chunk.length) break;
      const take = Math.min(need - this.#carried, chunk.length - at);
      if (this.#carry.length < need) {
        const grown = new Uint8Array(Math.max(need, this.#carry.length * 2));
        grown.set(this.#carry.subarray(0, this.#carried));
        this.#carry = grown;
      }
      this.#carry.set(chunk.subarray(at, at + take), this.#carried);
      this.#carried += take;
      at += take;
      if (this.#carried < need) break;
      this.#carried = 0;
      this.#consume(step, this.#carry.subarray(0, need), frames);
    }
    return frames;
  }

  /** Ends the stream: reports a record cut short and returns it with the bytes that came. */
  finish(): CapturedFrame[] {
    if (this.#stopped) return [];
    this.#stopped = true;
    const step = this.#step;
    const carried = this.#carry.subarray(0, this.#carried);
    const at = this.#position;
    if (step.kind === 'start') {
      this.#badStart(carried);
      return [];
    }
    if (step.kind === 'record-header' && carried.length > 0) {
      this.#truncated('pcap/truncated-record', `record header: expected ${RECORD_HEADER_SIZE}`, carried, at);
    } else if (step.kind === 'record-data') {
      this.#truncated('pcap/truncated-record', `record data: expected ${step.included}`, carried, at);
      return [this.#pcapFrame(step, carried.slice(), at)];
    } else if (step.kind === 'block-head' && carried.length > 0) {
      this.#truncated('pcapng/truncated-block', `block header: expected ${BLOCK_HEAD_SIZE}`, carried, at);
    } else if (step.kind === 'block-body') {
      const found = step.head.length + carried.length;
      this.#report({
        severity: 'warning',
        code: 'pcapng/truncated-block',
        message: `block length: expected ${step.total} bytes, found ${found} at the end of the stream`,
        offset: at - step.head.length,
        frame: this.#index,
      });
    } else if (step.kind === 'block-skip' && step.left > 0) {
      this.#report({
        severity: 'warning',
        code: 'pcapng/truncated-block',
        message: `block: expected ${step.left} more bytes at the end of the stream`,
        offset: at,
        frame: this.#index,
      });
    }
    return [];
  }

  #need(step: Exclude<Step, { kind: 'block-skip' }>): number {
    switch (step.kind) {
      case 'start':
        return PCAP_HEADER_SIZE;
      case 'record-header':
        return RECORD_HEADER_SIZE;
      case 'record-data':
        return step.included;
      case 'block-head':
        return BLOCK_HEAD_SIZE;
      case 'block-body':
        return step.total - step.head.length;
    }
  }

  // Reads one complete unit of the current step, a transient view: copy what must be kept.
  #consume(step: Step, unit: Uint8Array, frames: CapturedFrame[]): void {
    const at = this.#position;
    this.#position += unit.length;
    switch (step.kind) {
      case 'start':
        this.#start(unit);
        break;
      case 'record-header':
        this.#recordHeader(unit, at);
        break;
      case 'record-data':
        frames.push(this.#pcapFrame(step, unit.slice(), at));
        this.#step = { kind: 'record-header' };
        break;
      case 'block-head':
        this.#blockHead(unit, unit, at);
        break;
      case 'block-body':
        this.#blockBody(step, unit, at - step.head.length, frames);
        break;
      case 'block-skip':
        break;
    }
  }

  #start(unit: Uint8Array): void {
    if (isPcap(unit)) {
      this.#format = 'pcap';
      const header = readPcapHeader(unit);
      this.#pcap = header;
      // Records up to the snap length tcpdump was given; 0 and larger values mean libpcap's maximum.
      this.#maxRecord =
        header.snapLength > 0 && header.snapLength < MAX_STREAM_RECORD
          ? header.snapLength
          : MAX_STREAM_RECORD;
      this.#step = { kind: 'record-header' };
      return;
    }
    if (isPcapng(unit)) {
      this.#format = 'pcapng';
      // A Section Header Block is at least 28 bytes, so the first 24 hold its head and more.
      this.#blockHead(unit.subarray(0, BLOCK_HEAD_SIZE), unit, 0);
      return;
    }
    this.#badStart(unit);
  }

  #badStart(bytes: Uint8Array): void {
    this.#stopped = true;
    if (isPcap(bytes)) {
      try {
        readPcapHeader(bytes);
      } catch (e) {
        if (!(e instanceof ParseError)) throw e;
        this.#report({
          severity: 'error',
          code: 'pcap/bad-header',
          message: parseErrorMessage(e),
          offset: 0,
        });
      }
      return;
    }
    if (isPcapng(bytes)) {
      this.#report({
        severity: 'error',
        code: 'pcapng/bad-section-header',
        message: `section header: expected at least 28 bytes, found ${bytes.length} at the end of the stream`,
        offset: 0,
      });
      return;
    }
    this.#format = 'unknown';
    this.#report({
      severity: 'error',
      code: 'capture/unknown-format',
      message: `stream magic: expected a pcap (A1 B2 C3 D4, A1 B2 3C 4D) or pcapng (0A 0D 0D 0A) magic, found ${hexPreview(bytes, 0, 4)}`,
      offset: 0,
    });
  }

  #recordHeader(unit: Uint8Array, at: number): void {
    const header = this.#pcap as PcapHeader;
    const view = new DataView(unit.buffer, unit.byteOffset, RECORD_HEADER_SIZE);
    const le = header.littleEndian;
    const seconds = view.getUint32(0, le);
    const fraction = view.getUint32(4, le);
    const included = view.getUint32(8, le);
    const original = view.getUint32(12, le);
    const fractionLimit = header.nanoseconds ? 1_000_000_000 : 1_000_000;
    if (fraction >= fractionLimit || included > this.#maxRecord) {
      this.#stop(
        'pcap/bad-record',
        `record header: expected a time fraction below ${fractionLimit} and a length up to ${this.#maxRecord} (the snap length), found ${hexPreview(unit, 0, RECORD_HEADER_SIZE)}`,
        at,
      );
      return;
    }
    const timestampUs = seconds * 1_000_000 + (header.nanoseconds ? Math.floor(fraction / 1000) : fraction);
    this.#step = { kind: 'record-data', timestampUs, included, original };
  }

  #pcapFrame(step: Extract<Step, { kind: 'record-data' }>, data: Uint8Array, offset: number): CapturedFrame {
    return {
      index: this.#index++,
      timestampUs: step.timestampUs,
      linkType: (this.#pcap as PcapHeader).linkType,
      interfaceId: 0,
      data,
      originalLength: step.original,
      offset,
    };
  }

  // `head` is the block's first 12 bytes; `read` is everything of the block read so far.
  #blockHead(head: Uint8Array, read: Uint8Array, at: number): void {
    const view = new DataView(head.buffer, head.byteOffset, BLOCK_HEAD_SIZE);
    if (view.getUint32(0, true) === SECTION_HEADER) {
      const magic = view.getUint32(8, true);
      if (magic !== BYTE_ORDER_MAGIC && view.getUint32(8, false) !== BYTE_ORDER_MAGIC) {
        this.#stop(
          'pcapng/bad-section-header',
          `section header: expected block type 0A 0D 0D 0A and byte-order magic 1A 2B 3C 4D, found ${hexPreview(head, 0, BLOCK_HEAD_SIZE)}`,
          at,
        );
        return;
      }
      this.#littleEndian = magic === BYTE_ORDER_MAGIC;
    }
    const le = this.#littleEndian;
    const type = view.getUint32(0, le);
    const total = view.getUint32(4, le);
    const kept =
      type === SECTION_HEADER ||
      type === INTERFACE_DESCRIPTION ||
      type === ENHANCED_PACKET ||
      type === PACKET ||
      type === SIMPLE_PACKET;
    const least = type === SECTION_HEADER ? 28 : BLOCK_HEAD_SIZE;
    if (total < least || total % 4 !== 0 || (kept && total > MAX_PCAPNG_BLOCK)) {
      this.#stop(
        'pcapng/bad-block',
        `block length: expected a multiple of 4 from ${least}${kept ? ` up to ${MAX_PCAPNG_BLOCK}` : ''}, found ${total}`,
        at,
      );
      return;
    }
    if (!kept) {
      this.#step = { kind: 'block-skip', left: total - read.length };
      return;
    }
    this.#step = { kind: 'block-body', type, head: read.slice(), total };
  }

  #blockBody(
    step: Extract<Step, { kind: 'block-body' }>,
    rest: Uint8Array,
    at: number,
    frames: CapturedFrame[],
  ): void {
    const le = this.#littleEndian;
    const { type, total } = step;
    // The section's header and interfaces, then this block: a small pcapng file of its own that
    // the whole-file reader decodes, so both readers share one decoder.
    const isSection = type === SECTION_HEADER;
    const prefix = isSection ? 0 : this.#sectionLength;
    const file = new Uint8Array(prefix + total);
    if (!isSection) {
      let put = 0;
      for (const part of this.#section) {
        file.set(part, put);
        put += part.length;
      }
    }
    file.set(step.head, prefix);
    file.set(rest, prefix + step.head.length);
    const block = file.subarray(prefix);
    const view = new DataView(block.buffer, block.byteOffset, total);
    const trailer = view.getUint32(total - 4, le);
    if (trailer !== total) {
      this.#stop('pcapng/bad-block', `block trailer: expected length ${total}, found ${trailer}`, at);
      return;
    }
    this.#step = { kind: 'block-head' };
    if (isSection) {
      const major = view.getUint16(12, le);
      if (major !== 1) {
        this.#stop(
          'pcapng/bad-section-header',
          `section header: expected version 1.x, found major ${major}`,
          at,
        );
        return;
      }
      this.#section = [block];
      this.#sectionLength = total;
      return;
    }
    if (type === INTERFACE_DESCRIPTION) {
      if (this.#sectionLength + total > MAX_PCAPNG_BLOCK) {
        this.#stop(
          'pcapng/bad-block',
          `interface descriptions: expected at most ${MAX_PCAPNG_BLOCK} bytes per section, found ${this.#sectionLength + total}`,
          at,
        );
        return;
      }
      this.#section.push(block);
      this.#sectionLength += total;
      return;
    }
    const index = this.#index++;
    const report: OnCaptureDiagnostic = (d) =>
      this.#report({
        ...d,
        frame: index,
        ...(d.offset !== undefined ? { offset: at + Math.max(0, d.offset - prefix) } : {}),
      });
    for (const frame of readPcapngFrames(file, report)) {
      const timestampUs = type === SIMPLE_PACKET ? this.#lastTimestampUs : frame.timestampUs;
      this.#lastTimestampUs = timestampUs;
      frames.push({ ...frame, index, timestampUs, offset: at + (frame.offset - prefix) });
    }
  }

  #stop(
    code: 'pcap/bad-record' | 'pcapng/bad-block' | 'pcapng/bad-section-header',
    reason: string,
    at: number,
  ) {
    this.#stopped = true;
    this.#report({
      severity: 'error',
      code,
      message: `${reason}; the rest of the stream is not read`,
      offset: at,
      frame: this.#index,
    });
  }

  #truncated(
    code: 'pcap/truncated-record' | 'pcapng/truncated-block',
    expected: string,
    carried: Uint8Array,
    at: number,
  ): void {
    this.#report({
      severity: 'warning',
      code,
      message: `${expected} bytes, found ${carried.length} at the end of the stream`,
      offset: at,
      frame: this.#index,
    });
  }
}
