// Reading the [in] parameters of a DCE/RPC request stub (C706 §14 NDR, MS-RPCE §2.2.5 NDR64;
// little-endian, as every Windows and Samba peer sends): a cursor with alignment, context
// handles, unique pointers and conformant varying strings, every read bounds-checked. The
// per-interface readers beside it (network-scmr.ts, network-srvs.ts, …) use it to name the
// arguments of the calls that matter.
import { ByteReader, ParseError } from '@palisade/binary';

/** A context handle on the wire: 4-byte attributes and a 16-byte GUID (MS-RPCE §2.2.4.11 / C706). */
const CONTEXT_HANDLE = 20;
/** Longer strings than this are not names, paths or commands: SC_MAX_PATH_LENGTH (MS-SCMR §2.2.1). */
const MAX_CHARS = 32 * 1024;

/**
 * A cursor over one request stub, in NDR or NDR64 (where pointers, counts and DWORD_PTRs are
 * 8 bytes and structures holding them are aligned to 8). Reads advance it and throw ParseError
 * when the stub ends early or holds a value the transfer syntax does not allow.
 * @example const r = new NdrReader(call.stub); r.contextHandle('hSCManager'); r.string('lpServiceName')
 */
export class NdrReader {
  readonly #r: ByteReader;
  readonly ndr64: boolean;
  /** Offset of the next read, from the start of the stub (alignment is relative to it). */
  at = 0;

  constructor(stub: Uint8Array, ndr64 = false) {
    this.#r = new ByteReader(stub);
    this.ndr64 = ndr64;
  }

  /** Skips to the next multiple of `n` bytes. */
  align(n: number): void {
    this.at = Math.ceil(this.at / n) * n;
  }

  /** Aligns for a structure or union that holds a pointer: 8 in NDR64, 4 in NDR. */
  alignPointerStruct(): void {
    this.align(this.ndr64 ? 8 : 4);
  }

  u8(field: string): number {
    return this.#r.u8(this.at++, field);
  }

  u32(field: string): number {
    this.align(4);
    const v = this.#r.u32le(this.at, field);
    this.at += 4;
    return v;
  }

  /** A pointer-sized integer: a referent id, a conformance or variance count, a DWORD_PTR. */
  wide(field: string): number {
    if (!this.ndr64) return this.u32(field);
    this.align(8);
    const v = this.#r.u64leNumber(this.at, field);
    this.at += 8;
    return v;
  }

  /** An [in] context handle, which says nothing about the call's arguments. */
  contextHandle(field: string): void {
    this.align(4);
    this.#r.ensure(this.at, CONTEXT_HANDLE, field);
    this.at += CONTEXT_HANDLE;
  }

  /** The referent id of a [unique] or [ptr] pointer: whether the value follows. */
  pointer(field: string): boolean {
    return this.wide(`${field} referent id`) !== 0;
  }

  /**
   * A [string] array of `unit`-byte characters (wchar_t 2, char 1): maximum count, offset and
   * actual count, then the characters, the last of them a NUL (C706 §14.3.4.3), which is
   * dropped. These checks also tell an NDR64 stub read as NDR, whose counts do not fit them.
   */
  string(field: string, unit: 1 | 2 = 2): string {
    const countsAt = this.at;
    const max = this.wide(`${field} maximum count`);
    const offset = this.wide(`${field} offset`);
    const actual = this.wide(`${field} actual count`);
    if (offset !== 0 || actual === 0 || actual > max || actual > MAX_CHARS)
      throw this.#r.fail(
        countsAt,
        field,
        `offset 0 and 1 to ${MAX_CHARS} characters within the maximum count`,
        `maximum ${max}, offset ${offset}, actual ${actual}`,
      );
    const text =
      unit === 2 ? this.#r.utf16le(this.at, actual, field) : this.#r.latin1(this.at, actual, field);
    if (!text.endsWith('\0'))
      throw this.#r.fail(this.at + (actual - 1) * unit, field, 'a terminating NUL', 'another character');
    this.at += actual * unit;
    return text.slice(0, -1);
  }

  /** A top-level [unique, string] parameter: the pointer and, when not NULL, the string after it. */
  uniqueString(field: string, unit: 1 | 2 = 2): string | undefined {
    return this.pointer(field) ? this.string(field, unit) : undefined;
  }

  /** A conformant array of bytes (a [size_is] buffer): its maximum count and the bytes, skipped. */
  skipBytes(field: string): void {
    const count = this.wide(`${field} maximum count`);
    this.#r.ensure(this.at, count, field);
    this.at += count;
  }
}

/** A request description being filled field by field while its stub is read. */
export type Filling<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Reads a stub with `read`, which fills a fresh result as it goes: as NDR, and when that fails,
 * as NDR64 (the call does not say which transfer syntax its context negotiated; a stub of one
 * does not read as the other). When both fail, the NDR result is kept — what was read before
 * the problem — with the problem (what was expected, what was found, where).
 */
export function readStub<T>(
  stub: Uint8Array,
  read: (r: NdrReader, out: Filling<Partial<T>>) => void,
): { readonly value: Partial<T>; readonly problem?: string } {
  const ndr = {} as Filling<Partial<T>>;
  const problem = attempt(() => read(new NdrReader(stub), ndr));
  if (!problem) return { value: ndr };
  const ndr64 = {} as Filling<Partial<T>>;
  if (!attempt(() => read(new NdrReader(stub, true), ndr64))) return { value: ndr64 };
  return { value: ndr, problem };
}

function attempt(read: () => void): string | undefined {
  try {
    read();
    return undefined;
  } catch (error) {
    if (error instanceof ParseError) return error.message;
    throw error;
  }
}
