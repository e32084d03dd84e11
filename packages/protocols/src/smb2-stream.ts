// SMB2 over TCP port 445: splits each direction into NetBIOS session messages (MS-SMB2 §2.1),
// decodes them, pairs requests with responses to learn share paths, file names and file ids,
// and hands named-pipe reads, writes and FSCTL_PIPE_TRANSCEIVE payloads to a DCE/RPC
// connection per pipe — so RPC calls over \PIPE\samr or \PIPE\svcctl come out named.
import { hexPreview } from '@palisade/binary';
import { type DcerpcDiagnostic, looksLikeDcerpcHeader } from './dcerpc-decoder.ts';
import { ByteQueue, DcerpcConnection, type DcerpcEvent } from './dcerpc-stream.ts';
import {
  decodeSmb2Message,
  FSCTL_PIPE_TRANSCEIVE,
  ntStatusName,
  SMB_MAGIC,
  SMB2_CANCEL,
  SMB2_CLOSE,
  SMB2_CREATE,
  SMB2_IOCTL,
  SMB2_READ,
  SMB2_SESSION_SETUP,
  SMB2_TREE_CONNECT,
  SMB2_WRITE,
  type Smb2Body,
  type Smb2Command,
  type Smb2Diagnostic,
  type Smb2Packet,
  STATUS_PENDING,
} from './smb2-decoder.ts';
import type { StreamDirection } from './tcp-reassembly.ts';

/** A named pipe opened on the connection. */
export interface Smb2Pipe {
  /** The name given to CREATE, e.g. `samr`, `lsarpc`, `svcctl`; empty for a pipe opened before the capture began. */
  readonly name: string;
  readonly fileId: string;
  readonly sessionId: string;
  readonly treeId: number;
  /** The tree connect path, e.g. `\\dc1\IPC$`, when the TREE_CONNECT was seen. */
  readonly share?: string;
}

/** What a connection saw, in the order it saw it. */
export type Smb2Event =
  /** Every NetBIOS session message, decoded. `offset` is its position in the direction's stream. */
  | {
      readonly kind: 'packet';
      readonly direction: StreamDirection;
      readonly offset: number;
      readonly packet: Smb2Packet;
    }
  /** A SESSION_SETUP round trip, with both security buffers (NTLMSSP, SPNEGO or Kerberos). */
  | {
      readonly kind: 'sessionSetup';
      readonly sessionId: string;
      readonly status: number;
      readonly statusName?: string;
      readonly requestSecurityBuffer?: Uint8Array;
      readonly responseSecurityBuffer?: Uint8Array;
    }
  /** A TREE_CONNECT round trip. `shareType` is 1 disk, 2 pipe, 3 print when it succeeded. */
  | {
      readonly kind: 'treeConnect';
      readonly sessionId: string;
      readonly path: string;
      readonly status: number;
      readonly statusName?: string;
      readonly treeId?: number;
      readonly shareType?: number;
    }
  /** A CREATE round trip: a file or pipe name with its share and, when it opened, the file id. */
  | {
      readonly kind: 'create';
      readonly sessionId: string;
      readonly treeId: number;
      readonly share?: string;
      readonly name: string;
      readonly isPipe: boolean;
      readonly status: number;
      readonly statusName?: string;
      readonly fileId?: string;
    }
  /** A DCE/RPC PDU or call carried on a named pipe. */
  | { readonly kind: 'rpc'; readonly pipe: Smb2Pipe; readonly rpc: DcerpcEvent };

export interface Smb2ConnectionResult {
  readonly events: readonly Smb2Event[];
  readonly diagnostics: readonly (Smb2Diagnostic | DcerpcDiagnostic)[];
}

/** Limits that keep a hostile or broken peer from growing state without bound. */
export interface Smb2Limits {
  /** Requests remembered while waiting for their response. */
  readonly maxPendingRequests: number;
  /** Trees and open files remembered per connection. */
  readonly maxOpenFiles: number;
}

export const defaultSmb2Limits: Smb2Limits = { maxPendingRequests: 4096, maxOpenFiles: 4096 };

interface Pending {
  readonly command: number;
  readonly sessionId: string;
  readonly treeId: number;
  readonly path?: string;
  readonly name?: string;
  readonly fileId?: string;
  readonly securityBuffer?: Uint8Array;
  /** Message id of the CREATE this related request refers to through a placeholder FileId. */
  readonly relatedCreate?: number;
  /** Pipe bytes of a request whose file was not known yet. */
  readonly deferred?: Uint8Array;
}

/** Who sent a request: enough to find its tree. */
interface Origin {
  readonly sessionId: string;
  readonly treeId?: number;
}

interface Tree {
  readonly path: string;
  readonly shareType: number;
}

interface OpenFile {
  readonly pipe?: Smb2Pipe;
  readonly rpc?: DcerpcConnection;
}

const NBSS_HEADER_SIZE = 4;
const NBSS_SESSION_MESSAGE = 0x00;
// RFC 1002 §4.3: session request, positive/negative response, retarget, keep-alive.
const NBSS_CONTROL_TYPES = new Set([0x81, 0x82, 0x83, 0x84, 0x85]);
const PLACEHOLDER_FILE_ID = 'ffffffff-ffff-ffff-ffff-ffffffffffff';
const SHARE_TYPE_PIPE = 0x02;

/**
 * One SMB2 connection, both directions. Push reassembled TCP bytes of each direction as they
 * come; events follow message order within a direction. Byte fields of events may be views
 * into the pushed chunk: use them before reusing its buffer (state kept between pushes is
 * copied).
 * @example
 * const smb = new Smb2Connection();
 * for (const e of smb.push('toServer', bytes).events) if (e.kind === 'rpc') console.log(e.pipe.name, e.rpc);
 */
export class Smb2Connection {
  readonly #limits: Smb2Limits;
  readonly #queues: Record<StreamDirection, ByteQueue> = {
    toServer: new ByteQueue(),
    toClient: new ByteQueue(),
  };
  readonly #offsets: Record<StreamDirection, number> = { toServer: 0, toClient: 0 };
  readonly #pending = new Map<number, Pending>();
  readonly #trees = new Map<string, Tree>();
  readonly #files = new Map<string, OpenFile>();
  /** File ids opened by CREATE responses, by the CREATE's message id (for related compounds). */
  readonly #created = new Map<number, string>();

  constructor(limits: Smb2Limits = defaultSmb2Limits) {
    this.#limits = limits;
  }

  /** Feeds bytes of one direction; returns what the complete messages among them carried. */
  push(direction: StreamDirection, chunk: Uint8Array): Smb2ConnectionResult {
    const queue = this.#queues[direction];
    queue.push(chunk);
    const events: Smb2Event[] = [];
    const diagnostics: (Smb2Diagnostic | DcerpcDiagnostic)[] = [];
    while (queue.length >= NBSS_HEADER_SIZE) {
      const head = queue.peek(Math.min(queue.length, 8));
      const type = head[0] ?? 0;
      const length = ((head[1] ?? 0) << 16) | ((head[2] ?? 0) << 8) | (head[3] ?? 0);
      if (type === NBSS_SESSION_MESSAGE && length >= 4 && head.length < 8) break;
      if (!isFrameStart(head)) {
        diagnostics.push(this.#resync(direction));
        continue;
      }
      if (queue.length < NBSS_HEADER_SIZE + length) break;
      const offset = this.#offsets[direction];
      const frame = queue.take(NBSS_HEADER_SIZE + length);
      this.#offsets[direction] += frame.length;
      if (type !== NBSS_SESSION_MESSAGE) continue;
      const result = decodeSmb2Message(frame.subarray(NBSS_HEADER_SIZE), offset + NBSS_HEADER_SIZE);
      diagnostics.push(...result.diagnostics);
      if (!result.value) continue;
      events.push({ kind: 'packet', direction, offset, packet: result.value });
      if (result.value.kind === 'smb2') this.#track(result.value.commands, events, diagnostics);
    }
    queue.own();
    return { events, diagnostics };
  }

  /** Notes `length` bytes of one direction missing from the capture; framing resumes after. */
  gap(direction: StreamDirection, length: number): readonly Smb2Diagnostic[] {
    const queue = this.#queues[direction];
    const dropped = queue.length;
    if (dropped > 0) queue.take(dropped);
    const offset = this.#offsets[direction];
    this.#offsets[direction] += dropped + length;
    return [
      {
        severity: 'warning',
        code: 'smb2/lost-sync',
        message: `expected ${length} more bytes at 0x${(offset + dropped).toString(16)}, found a gap in the capture; dropped ${dropped} buffered bytes`,
        offset,
      },
    ];
  }

  /** Reports unfinished messages and pipe PDUs when the connection closes. */
  end(): readonly (Smb2Diagnostic | DcerpcDiagnostic)[] {
    const diagnostics: (Smb2Diagnostic | DcerpcDiagnostic)[] = [];
    for (const direction of ['toServer', 'toClient'] as const) {
      const queue = this.#queues[direction];
      if (queue.length === 0) continue;
      const left = queue.take(queue.length);
      diagnostics.push({
        severity: 'error',
        code: 'smb2/truncated',
        message: `expected a whole NetBIOS session message, found ${left.length} bytes (${hexPreview(left, 0, 8)}) at the end of the stream`,
        offset: this.#offsets[direction],
      });
      this.#offsets[direction] += left.length;
    }
    for (const file of this.#files.values()) if (file.rpc) diagnostics.push(...file.rpc.end());
    this.#files.clear();
    return diagnostics;
  }

  // Skips to the next offset that starts a NetBIOS session message holding an SMB magic.
  #resync(direction: StreamDirection): Smb2Diagnostic {
    const queue = this.#queues[direction];
    const bytes = queue.peek(queue.length);
    let skip = 1;
    while (skip + 8 <= bytes.length && !isFrameStart(bytes.subarray(skip, skip + 8))) skip++;
    if (skip + 8 > bytes.length) skip = Math.max(1, bytes.length - 7);
    const offset = this.#offsets[direction];
    queue.take(skip);
    this.#offsets[direction] += skip;
    return {
      severity: 'error',
      code: 'smb2/lost-sync',
      message: `expected a NetBIOS session message with an SMB header, found ${hexPreview(bytes, 0, 8)} at 0x${offset.toString(16)}; skipped ${skip} bytes`,
      offset,
    };
  }

  #track(
    commands: readonly Smb2Command[],
    events: Smb2Event[],
    diagnostics: (Smb2Diagnostic | DcerpcDiagnostic)[],
  ): void {
    let chainCreate: number | undefined;
    let chainFile: string | undefined;
    for (const { header, body } of commands) {
      if (!header.isResponse) {
        // A CANCEL reuses the message id of the request it cancels; it has no answer of its own.
        if (header.command === SMB2_CANCEL) continue;
        const fileId = 'fileId' in body ? body.fileId : undefined;
        // MS-SMB2 §3.2.4.1.4: related requests name the previous command's file with all ones.
        const related = header.isRelated && fileId === PLACEHOLDER_FILE_ID;
        const resolved = related ? chainFile : fileId;
        if (header.command === SMB2_CREATE) chainCreate = header.messageId;
        if (resolved) chainFile = resolved;
        remember(this.#pending, this.#limits.maxPendingRequests, header.messageId, {
          command: header.command,
          sessionId: header.sessionId,
          treeId: header.treeId ?? 0,
          ...(body.kind === 'treeConnectRequest' ? { path: body.path } : {}),
          ...(body.kind === 'createRequest' ? { name: body.name } : {}),
          ...(body.kind === 'sessionSetupRequest' ? { securityBuffer: body.securityBuffer.slice() } : {}),
          ...(resolved ? { fileId: resolved } : {}),
          ...(related && !resolved && chainCreate !== undefined ? { relatedCreate: chainCreate } : {}),
          ...this.#requestPipeData(body, resolved, header, events, diagnostics),
        });
        continue;
      }
      // An interim STATUS_PENDING answer is followed by the real one with the same message id.
      if (header.isAsync && header.status === STATUS_PENDING) continue;
      const pending = this.#pending.get(header.messageId);
      this.#pending.delete(header.messageId);
      if (!pending) continue;
      const status = header.status;
      const statusName = ntStatusName(status);
      const named = statusName ? { statusName } : {};
      const fileId =
        pending.fileId ??
        (pending.relatedCreate !== undefined ? this.#created.get(pending.relatedCreate) : undefined);
      switch (header.command) {
        case SMB2_SESSION_SETUP:
          events.push({
            kind: 'sessionSetup',
            sessionId: header.sessionId,
            status,
            ...named,
            ...(pending.securityBuffer ? { requestSecurityBuffer: pending.securityBuffer } : {}),
            ...(body.kind === 'sessionSetupResponse' ? { responseSecurityBuffer: body.securityBuffer } : {}),
          });
          break;
        case SMB2_TREE_CONNECT: {
          const path = pending.path ?? '';
          if (body.kind === 'treeConnectResponse' && header.treeId !== undefined) {
            remember(this.#trees, this.#limits.maxOpenFiles, `${header.sessionId}:${header.treeId}`, {
              path,
              shareType: body.shareType,
            });
          }
          events.push({
            kind: 'treeConnect',
            sessionId: header.sessionId,
            path,
            status,
            ...named,
            ...(body.kind === 'treeConnectResponse'
              ? { treeId: header.treeId ?? 0, shareType: body.shareType }
              : {}),
          });
          break;
        }
        case SMB2_CREATE:
          events.push(
            this.#opened(
              header.messageId,
              pending,
              body.kind === 'createResponse' ? body.fileId : undefined,
              status,
              named,
            ),
          );
          break;
        case SMB2_CLOSE:
          if (pending.fileId) {
            const file = this.#files.get(pending.fileId);
            if (file?.rpc) diagnostics.push(...file.rpc.end());
            this.#files.delete(pending.fileId);
          }
          break;
        case SMB2_WRITE:
          if (pending.deferred && fileId)
            this.#pipeData(fileId, 'toServer', pending.deferred, pending, events, diagnostics);
          break;
        case SMB2_READ:
          if (body.kind === 'readResponse' && fileId)
            this.#pipeData(fileId, 'toClient', body.data, pending, events, diagnostics);
          break;
        case SMB2_IOCTL:
          if (pending.deferred && fileId)
            this.#pipeData(fileId, 'toServer', pending.deferred, pending, events, diagnostics);
          if (body.kind === 'ioctlResponse' && body.ctlCode === FSCTL_PIPE_TRANSCEIVE) {
            const id = body.fileId === PLACEHOLDER_FILE_ID ? fileId : body.fileId;
            if (id) this.#pipeData(id, 'toClient', body.output, pending, events, diagnostics);
          }
          break;
        default:
          break;
      }
    }
  }

  // Pipe bytes a request carries: delivered now when the file is known, else kept until the
  // response tells which file a related compound meant.
  #requestPipeData(
    body: Smb2Body,
    fileId: string | undefined,
    origin: Origin,
    events: Smb2Event[],
    diagnostics: (Smb2Diagnostic | DcerpcDiagnostic)[],
  ): { deferred?: Uint8Array } {
    const data =
      body.kind === 'writeRequest'
        ? body.data
        : body.kind === 'ioctlRequest' && body.ctlCode === FSCTL_PIPE_TRANSCEIVE
          ? body.input
          : undefined;
    if (!data || data.length === 0) return {};
    if (!fileId) return { deferred: data.slice() };
    this.#pipeData(fileId, 'toServer', data, origin, events, diagnostics);
    return {};
  }

  #opened(
    messageId: number,
    pending: Pending,
    fileId: string | undefined,
    status: number,
    named: { statusName?: string },
  ): Smb2Event {
    const tree = this.#trees.get(`${pending.sessionId}:${pending.treeId}`);
    const isPipe = tree !== undefined && isPipeTree(tree);
    const name = pending.name ?? '';
    if (fileId) {
      remember(this.#created, this.#limits.maxOpenFiles, messageId, fileId);
      const pipe: Smb2Pipe = {
        name,
        fileId,
        sessionId: pending.sessionId,
        treeId: pending.treeId,
        ...(tree ? { share: tree.path } : {}),
      };
      remember(
        this.#files,
        this.#limits.maxOpenFiles,
        fileId,
        isPipe ? { pipe, rpc: new DcerpcConnection() } : {},
      );
    }
    return {
      kind: 'create',
      sessionId: pending.sessionId,
      treeId: pending.treeId,
      ...(tree ? { share: tree.path } : {}),
      name,
      isPipe,
      status,
      ...named,
      ...(fileId ? { fileId } : {}),
    };
  }

  #pipeData(
    fileId: string,
    direction: StreamDirection,
    data: Uint8Array,
    origin: Origin,
    events: Smb2Event[],
    diagnostics: (Smb2Diagnostic | DcerpcDiagnostic)[],
  ): void {
    let file = this.#files.get(fileId);
    // A pipe opened before the capture began: adopt it, nameless, when DCE/RPC shows up on it.
    const tree = file ? undefined : this.#trees.get(`${origin.sessionId}:${origin.treeId}`);
    if (!file && (!tree || isPipeTree(tree)) && looksLikeDcerpcHeader(data)) {
      const pipe: Smb2Pipe = {
        name: '',
        fileId,
        sessionId: origin.sessionId,
        treeId: origin.treeId ?? 0,
        ...(tree ? { share: tree.path } : {}),
      };
      file = { pipe, rpc: new DcerpcConnection() };
      remember(this.#files, this.#limits.maxOpenFiles, fileId, file);
    }
    if (!file?.pipe || !file.rpc) return;
    const result = file.rpc.push(direction, data);
    diagnostics.push(...result.diagnostics);
    for (const rpc of result.events) events.push({ kind: 'rpc', pipe: file.pipe, rpc });
  }
}

// Maps keep insertion order, so the first key is the oldest entry.
function remember<K, V>(map: Map<K, V>, limit: number, key: K, value: V): void {
  if (!map.has(key) && map.size >= limit) {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }
  map.set(key, value);
}

function isPipeTree(tree: Tree): boolean {
  return tree.shareType === SHARE_TYPE_PIPE || /\\IPC\$$/i.test(tree.path);
}

// A NetBIOS control message, or a session message whose payload starts with an SMB magic.
function isFrameStart(head: Uint8Array): boolean {
  const type = head[0] ?? 0xff;
  if (NBSS_CONTROL_TYPES.has(type)) return (head[1] ?? 0xff) <= 1;
  if (type !== NBSS_SESSION_MESSAGE || head.length < 8) return false;
  const magic =
    (((head[4] ?? 0) << 24) | ((head[5] ?? 0) << 16) | ((head[6] ?? 0) << 8) | (head[7] ?? 0)) >>> 0;
  return (
    magic === SMB_MAGIC.smb2 ||
    magic === SMB_MAGIC.transform ||
    magic === SMB_MAGIC.compressed ||
    magic === SMB_MAGIC.smb1
  );
}
