// DCE/RPC over a byte stream: splits TCP payloads (or SMB2 pipe reads and writes) into PDUs,
// remembers which interface each presentation context is bound to, and reassembles fragmented
// requests and responses into calls with their interface and method names.
import { hexPreview } from '@palisade/binary';
import {
  DCERPC_HEADER_SIZE,
  type DcerpcAuthVerifier,
  type DcerpcDiagnostic,
  type DcerpcFaultPdu,
  type DcerpcPdu,
  type DcerpcRequestPdu,
  type DcerpcResponsePdu,
  type DcerpcSyntaxId,
  decodeDcerpcPdu,
  looksLikeDcerpcHeader,
} from './dcerpc-decoder.ts';
import { findDcerpcInterface } from './dcerpc-interfaces.ts';
import type { StreamDirection } from './tcp-reassembly.ts';

/**
 * Bytes received in pieces, taken out in frames. Chunks are only joined when a frame is taken,
 * so a large frame arriving in many segments is copied once.
 */
export class ByteQueue {
  #chunks: Uint8Array[] = [];
  #length = 0;
  /** Index of the first chunk that is still a view into a caller's buffer. */
  #unownedFrom = 0;

  get length(): number {
    return this.#length;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /**
   * Copies the queued bytes that are still views into the caller's buffers, so the caller may
   * reuse them (a live capture's packet buffer); each byte is copied at most once.
   */
  own(): void {
    for (let i = this.#unownedFrom; i < this.#chunks.length; i++) {
      this.#chunks[i] = (this.#chunks[i] as Uint8Array).slice();
    }
    this.#unownedFrom = this.#chunks.length;
  }

  /** The first `n` bytes without removing them (n ≤ length). */
  peek(n: number): Uint8Array {
    const first = this.#chunks[0];
    if (first && first.length >= n) return first.subarray(0, n);
    return this.#join(n, false);
  }

  /** Removes and returns the first `n` bytes (n ≤ length). */
  take(n: number): Uint8Array {
    return this.#join(n, true);
  }

  #join(n: number, remove: boolean): Uint8Array {
    const first = this.#chunks[0];
    if (first && first.length >= n) {
      if (remove) this.#drop(n);
      return first.subarray(0, n);
    }
    const out = new Uint8Array(n);
    let filled = 0;
    for (const chunk of this.#chunks) {
      if (filled === n) break;
      const part = chunk.subarray(0, n - filled);
      out.set(part, filled);
      filled += part.length;
    }
    if (remove) this.#drop(n);
    return out;
  }

  #drop(n: number): void {
    this.#length -= n;
    while (n > 0) {
      const first = this.#chunks[0];
      if (!first) return;
      if (first.length <= n) {
        this.#chunks.shift();
        if (this.#unownedFrom > 0) this.#unownedFrom--;
        n -= first.length;
      } else {
        this.#chunks[0] = first.subarray(n);
        n = 0;
      }
    }
  }
}

/** What one push to a PDU stream produced. */
export interface DcerpcStreamResult {
  readonly pdus: readonly DcerpcPdu[];
  readonly diagnostics: readonly DcerpcDiagnostic[];
}

/**
 * Splits one direction of a connection into PDUs by their frag_length, whatever the segment
 * boundaries. Bytes that cannot start a PDU are skipped up to the next plausible header, with
 * one diagnostic per gap.
 * @example const s = new DcerpcStream(); s.push(segment).pdus
 */
export class DcerpcStream {
  #queue = new ByteQueue();
  /** Stream offset of the first queued byte. */
  #offset = 0;

  push(chunk: Uint8Array): DcerpcStreamResult {
    this.#queue.push(chunk);
    const pdus: DcerpcPdu[] = [];
    const diagnostics: DcerpcDiagnostic[] = [];
    while (this.#queue.length >= DCERPC_HEADER_SIZE) {
      const head = this.#queue.peek(DCERPC_HEADER_SIZE);
      if (!looksLikeDcerpcHeader(head)) {
        diagnostics.push(this.#resync());
        continue;
      }
      const le = ((head[4] ?? 0) & 0xf0) === 0x10;
      const fragLength = le ? (head[8] ?? 0) | ((head[9] ?? 0) << 8) : ((head[8] ?? 0) << 8) | (head[9] ?? 0);
      if (this.#queue.length < fragLength) break;
      const result = decodeDcerpcPdu(this.#queue.take(fragLength), this.#offset);
      this.#offset += fragLength;
      if (result.value) pdus.push(result.value);
      diagnostics.push(...result.diagnostics);
    }
    this.#queue.own();
    return { pdus, diagnostics };
  }

  /**
   * Notes `length` bytes missing from the stream (a capture gap): the partial PDU before it is
   * dropped, and the bytes after it are searched for the next header.
   */
  gap(length: number): readonly DcerpcDiagnostic[] {
    const dropped = this.#queue.length;
    if (dropped > 0) this.#queue.take(dropped);
    const offset = this.#offset;
    this.#offset += dropped + length;
    return [
      {
        severity: 'warning',
        code: 'dcerpc/lost-sync',
        message: `expected ${length} more bytes at 0x${(offset + dropped).toString(16)}, found a gap in the capture; dropped ${dropped} buffered bytes`,
        offset,
      },
    ];
  }

  /** Reports bytes left over when the stream ends mid-PDU. */
  end(): readonly DcerpcDiagnostic[] {
    const left = this.#queue.length;
    if (left === 0) return [];
    const bytes = this.#queue.take(left);
    const offset = this.#offset;
    this.#offset += left;
    return [
      {
        severity: 'error',
        code: 'dcerpc/truncated',
        message: `expected a whole PDU, found ${left} bytes (${hexPreview(bytes, 0, 8)}) at the end of the stream`,
        offset,
      },
    ];
  }

  // Drops bytes up to the next offset where a PDU header could start; keeps a tail too short
  // to judge. Every call removes at least one byte, so the caller's loop ends.
  #resync(): DcerpcDiagnostic {
    const bytes = this.#queue.peek(this.#queue.length);
    let skip = 1;
    while (skip + DCERPC_HEADER_SIZE <= bytes.length && !looksLikeDcerpcHeader(bytes, skip)) skip++;
    if (skip + DCERPC_HEADER_SIZE > bytes.length) skip = Math.max(1, bytes.length - DCERPC_HEADER_SIZE + 1);
    const offset = this.#offset;
    this.#queue.take(skip);
    this.#offset += skip;
    return {
      severity: 'error',
      code: 'dcerpc/lost-sync',
      message: `expected a DCE/RPC header (05 00), found ${hexPreview(bytes, 0, 8)} at 0x${offset.toString(16)}; skipped ${skip} bytes`,
      offset,
    };
  }
}

/** A request, response or fault with its fragments joined and its method named. */
export interface DcerpcCall {
  readonly type: 'request' | 'response' | 'fault';
  readonly callId: number;
  readonly contextId: number;
  /** From the request; known for responses and faults whose request was seen. */
  readonly opnum?: number;
  /** The interface bound to the context, when the bind was seen. */
  readonly interface?: DcerpcSyntaxId;
  readonly opnumName?: string;
  readonly object?: string;
  /** The joined stub data of all fragments (sealed bytes when `stubEncrypted`). */
  readonly stub: Uint8Array;
  /** Stub bytes of all fragments; larger than `stub` only when a call over the limit was dropped. */
  readonly stubLength: number;
  readonly stubEncrypted: boolean;
  readonly fragments: number;
  /** Security provider and level of the first fragment, when authenticated. */
  readonly authType?: number;
  readonly authLevel?: number;
  /** Fault status (C706 Appendix E), for faults. */
  readonly status?: number;
  readonly statusName?: string;
}

/** What a connection saw: every non-call PDU as it is, and calls once complete. */
export type DcerpcEvent =
  | { readonly kind: 'pdu'; readonly direction: StreamDirection; readonly pdu: DcerpcPdu }
  | { readonly kind: 'call'; readonly direction: StreamDirection; readonly call: DcerpcCall };

export interface DcerpcConnectionResult {
  readonly events: readonly DcerpcEvent[];
  readonly diagnostics: readonly DcerpcDiagnostic[];
}

/** Limits that keep a hostile or broken peer from growing state without bound. */
export interface DcerpcLimits {
  /** Calls being reassembled at once per direction. */
  readonly maxPendingCalls: number;
  /** Stub bytes of one reassembled call. */
  readonly maxCallBytes: number;
  /** Requests remembered while waiting for their response. */
  readonly maxOutstandingRequests: number;
}

export const defaultDcerpcLimits: DcerpcLimits = {
  maxPendingCalls: 64,
  maxCallBytes: 16 * 1024 * 1024,
  maxOutstandingRequests: 1024,
};

interface Assembly {
  readonly first: DcerpcRequestPdu | DcerpcResponsePdu;
  readonly parts: Uint8Array[];
  size: number;
  fragments: number;
  dropped: boolean;
}

/**
 * One DCE/RPC association over a stream: both directions, the presentation contexts bound on
 * it, fragment reassembly per call id, and requests matched to their responses. Byte fields of
 * events may be views into the pushed chunk: use them before reusing its buffer.
 * @example const c = new DcerpcConnection(); c.push('toServer', bytes).events
 */
export class DcerpcConnection {
  readonly #limits: DcerpcLimits;
  readonly #streams: Record<StreamDirection, DcerpcStream> = {
    toServer: new DcerpcStream(),
    toClient: new DcerpcStream(),
  };
  readonly #assemblies: Record<StreamDirection, Map<number, Assembly>> = {
    toServer: new Map(),
    toClient: new Map(),
  };
  /** Proposed contexts by bind call id, confirmed by the bind_ack with the same call id. */
  readonly #proposed = new Map<number, readonly { pContId: number; abstractSyntax: DcerpcSyntaxId }[]>();
  readonly #contexts = new Map<number, DcerpcSyntaxId>();
  readonly #requests = new Map<number, { opnum: number; contextId: number }>();

  constructor(limits: DcerpcLimits = defaultDcerpcLimits) {
    this.#limits = limits;
  }

  /** Feeds bytes of one direction; returns the PDUs and calls they completed. */
  push(direction: StreamDirection, chunk: Uint8Array): DcerpcConnectionResult {
    const { pdus, diagnostics } = this.#streams[direction].push(chunk);
    const events: DcerpcEvent[] = [];
    const all = [...diagnostics];
    for (const pdu of pdus) this.#accept(direction, pdu, events, all);
    return { events, diagnostics: all };
  }

  /** Notes bytes of one direction missing from the capture (see `DcerpcStream.gap`). */
  gap(direction: StreamDirection, length: number): readonly DcerpcDiagnostic[] {
    return this.#streams[direction].gap(length);
  }

  /** Reports what was left unfinished when the connection closed. */
  end(): readonly DcerpcDiagnostic[] {
    const diagnostics = [...this.#streams.toServer.end(), ...this.#streams.toClient.end()];
    for (const direction of ['toServer', 'toClient'] as const) {
      for (const [callId, a] of this.#assemblies[direction]) {
        diagnostics.push({
          severity: 'warning',
          code: 'dcerpc/truncated',
          message: `expected the last fragment of call ${callId}, found the end of the stream after ${a.fragments} fragments`,
          offset: 0,
        });
      }
      this.#assemblies[direction].clear();
    }
    return diagnostics;
  }

  #accept(
    direction: StreamDirection,
    pdu: DcerpcPdu,
    events: DcerpcEvent[],
    diagnostics: DcerpcDiagnostic[],
  ): void {
    switch (pdu.kind) {
      case 'request':
      case 'response': {
        const complete = this.#reassemble(direction, pdu, diagnostics);
        if (complete) events.push({ kind: 'call', direction, call: complete });
        return;
      }
      case 'fault':
        events.push({ kind: 'call', direction, call: this.#fault(pdu) });
        return;
      case 'bind':
      case 'alterContext':
        if (this.#proposed.size >= this.#limits.maxPendingCalls) {
          const oldest = this.#proposed.keys().next().value;
          if (oldest !== undefined) this.#proposed.delete(oldest);
        }
        this.#proposed.set(pdu.header.callId, pdu.contexts);
        // Until the answer arrives the proposal is the best guess (captures can miss it).
        for (const c of pdu.contexts) {
          if (!this.#contexts.has(c.pContId)) this.#contexts.set(c.pContId, c.abstractSyntax);
        }
        break;
      case 'bindAck':
      case 'alterContextResp': {
        const proposed = this.#proposed.get(pdu.header.callId);
        this.#proposed.delete(pdu.header.callId);
        pdu.results.forEach((result, i) => {
          const context = proposed?.[i];
          if (!context) return;
          if (result.result === 0) this.#contexts.set(context.pContId, context.abstractSyntax);
          else if (this.#contexts.get(context.pContId) === context.abstractSyntax) {
            this.#contexts.delete(context.pContId);
          }
        });
        break;
      }
      default:
        break;
    }
    events.push({ kind: 'pdu', direction, pdu });
  }

  #reassemble(
    direction: StreamDirection,
    pdu: DcerpcRequestPdu | DcerpcResponsePdu,
    diagnostics: DcerpcDiagnostic[],
  ): DcerpcCall | undefined {
    const pending = this.#assemblies[direction];
    const callId = pdu.header.callId;
    if (pdu.header.firstFrag) {
      if (pending.has(callId)) {
        diagnostics.push(
          this.#warning('dcerpc/orphan-fragment', `call ${callId} restarted before its last fragment`),
        );
      }
      if (pdu.header.lastFrag) {
        pending.delete(callId);
        return this.#call(pdu, [pdu.stub], pdu.stub.length, 1);
      }
      if (pending.size >= this.#limits.maxPendingCalls && !pending.has(callId)) {
        const oldest = pending.keys().next().value;
        if (oldest !== undefined) pending.delete(oldest);
        diagnostics.push(
          this.#warning(
            'dcerpc/too-many-calls',
            `more than ${this.#limits.maxPendingCalls} calls in reassembly; dropped call ${oldest}`,
          ),
        );
      }
      pending.set(callId, {
        first: pdu,
        // Kept across pushes, so copied out of the caller's buffer.
        parts: [pdu.stub.slice()],
        size: pdu.stub.length,
        fragments: 1,
        dropped: false,
      });
      return undefined;
    }
    const assembly = pending.get(callId);
    if (!assembly) {
      diagnostics.push(
        this.#warning('dcerpc/orphan-fragment', `fragment of call ${callId} without its first fragment`),
      );
      return undefined;
    }
    if (!assembly.dropped) {
      if (assembly.size + pdu.stub.length > this.#limits.maxCallBytes) {
        assembly.dropped = true;
        assembly.parts.length = 0;
        diagnostics.push(
          this.#warning(
            'dcerpc/too-large',
            `call ${callId} exceeds ${this.#limits.maxCallBytes} stub bytes; stub dropped`,
          ),
        );
      } else {
        assembly.parts.push(pdu.stub.slice());
      }
      assembly.size += pdu.stub.length;
    }
    assembly.fragments++;
    if (!pdu.header.lastFrag) return undefined;
    pending.delete(callId);
    return this.#call(assembly.first, assembly.parts, assembly.size, assembly.fragments);
  }

  #call(
    first: DcerpcRequestPdu | DcerpcResponsePdu,
    parts: Uint8Array[],
    size: number,
    fragments: number,
  ): DcerpcCall {
    const stub = parts.length === 1 ? (parts[0] as Uint8Array) : concat(parts);
    const callId = first.header.callId;
    let opnum: number | undefined;
    let contextId = first.pContId;
    if (first.kind === 'request') {
      opnum = first.opnum;
      if (this.#requests.size >= this.#limits.maxOutstandingRequests) {
        const oldest = this.#requests.keys().next().value;
        if (oldest !== undefined) this.#requests.delete(oldest);
      }
      this.#requests.set(callId, { opnum, contextId });
    } else {
      const request = this.#requests.get(callId);
      this.#requests.delete(callId);
      opnum = request?.opnum;
      contextId = request?.contextId ?? contextId;
    }
    return {
      type: first.kind,
      callId,
      contextId,
      ...this.#naming(contextId, opnum),
      ...(first.kind === 'request' && first.object ? { object: first.object } : {}),
      stub,
      stubLength: size,
      stubEncrypted: first.stubEncrypted,
      fragments,
      ...authOf(first.auth),
    };
  }

  #fault(pdu: DcerpcFaultPdu): DcerpcCall {
    const request = this.#requests.get(pdu.header.callId);
    this.#requests.delete(pdu.header.callId);
    const contextId = request?.contextId ?? pdu.pContId;
    return {
      type: 'fault',
      callId: pdu.header.callId,
      contextId,
      ...this.#naming(contextId, request?.opnum),
      stub: pdu.stub,
      stubLength: pdu.stub.length,
      stubEncrypted: false,
      fragments: 1,
      ...authOf(pdu.auth),
      status: pdu.status,
      ...(pdu.statusName ? { statusName: pdu.statusName } : {}),
    };
  }

  #naming(
    contextId: number,
    opnum: number | undefined,
  ): { opnum?: number; interface?: DcerpcSyntaxId; opnumName?: string } {
    const iface = this.#contexts.get(contextId);
    const out: { opnum?: number; interface?: DcerpcSyntaxId; opnumName?: string } = {};
    if (opnum !== undefined) out.opnum = opnum;
    if (iface) out.interface = iface;
    const name = iface && opnum !== undefined ? findDcerpcInterface(iface.uuid)?.opnums[opnum] : undefined;
    if (name) out.opnumName = name;
    return out;
  }

  #warning(code: DcerpcDiagnostic['code'], message: string): DcerpcDiagnostic {
    return { severity: 'warning', code, message, offset: 0 };
  }
}

function authOf(auth: DcerpcAuthVerifier | undefined): { authType?: number; authLevel?: number } {
  return auth ? { authType: auth.authType, authLevel: auth.authLevel } : {};
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
