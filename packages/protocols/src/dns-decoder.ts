// DNS messages (RFC 1035 §4) from UDP datagrams and TCP streams: header, questions and resource
// records with compressed names, rdata for the types detections read. Zone transfers (AXFR,
// RFC 5936; IXFR, RFC 1995) are recognised by their question type.
import { ByteReader, hexPreview, ParseError } from '@palisade/binary';

/** Every condition the DNS decoder reports. */
export const dnsDiagnosticCodes = [
  'dns/truncated',
  'dns/bad-name',
  'dns/bad-value',
  'dns/trailing-bytes',
  'dns/empty-message',
] as const;

export type DnsDiagnosticCode = (typeof dnsDiagnosticCodes)[number];

/** A finding about one message; `error` means the message was not (fully) decoded. */
export interface DnsDiagnostic {
  readonly severity: 'error' | 'warning';
  readonly code: DnsDiagnosticCode;
  readonly message: string;
  /** Byte offset in the datagram, or in the TCP stream for `DnsTcpStream`. */
  readonly offset: number;
}

/** The fixed 12-byte header (RFC 1035 §4.1.1, AD/CD from RFC 4035 §3.2). */
export interface DnsHeader {
  readonly id: number;
  /** QR: the message is a response. */
  readonly qr: boolean;
  readonly opcode: number;
  readonly opcodeName: string;
  readonly aa: boolean;
  readonly tc: boolean;
  readonly rd: boolean;
  readonly ra: boolean;
  readonly z: boolean;
  readonly ad: boolean;
  readonly cd: boolean;
  readonly rcode: number;
  readonly rcodeName: string;
  readonly qdCount: number;
  readonly anCount: number;
  readonly nsCount: number;
  readonly arCount: number;
}

/** One entry of the question section (RFC 1035 §4.1.2). */
export interface DnsQuestion {
  /** Dotted presentation form without the trailing dot; the root is `.`. */
  readonly name: string;
  readonly type: number;
  readonly typeName: string;
  readonly class: number;
  readonly className: string;
}

/** Decoded RDATA, tagged by record type; field names follow RFC 1035 §3.3–3.4 and RFC 2782. */
export type DnsRdata =
  | { readonly kind: 'a'; readonly address: string }
  | { readonly kind: 'aaaa'; readonly address: string }
  | { readonly kind: 'cname'; readonly cname: string }
  | { readonly kind: 'ns'; readonly nsdname: string }
  | { readonly kind: 'ptr'; readonly ptrdname: string }
  | { readonly kind: 'mx'; readonly preference: number; readonly exchange: string }
  | { readonly kind: 'txt'; readonly txtData: readonly string[] }
  | {
      readonly kind: 'srv';
      readonly priority: number;
      readonly weight: number;
      readonly port: number;
      readonly target: string;
    }
  | {
      readonly kind: 'soa';
      readonly mname: string;
      readonly rname: string;
      readonly serial: number;
      readonly refresh: number;
      readonly retry: number;
      readonly expire: number;
      readonly minimum: number;
    }
  | { readonly kind: 'other'; readonly length: number };

/** One resource record (RFC 1035 §4.1.3). For OPT (RFC 6891) `class` is the UDP payload size. */
export interface DnsResourceRecord extends DnsQuestion {
  readonly ttl: number;
  readonly rdLength: number;
  readonly data: DnsRdata;
}

/** A decoded message. When `complete` is false, a diagnostic says where decoding stopped. */
export interface DnsMessage {
  readonly header: DnsHeader;
  readonly questions: readonly DnsQuestion[];
  readonly answers: readonly DnsResourceRecord[];
  readonly authorities: readonly DnsResourceRecord[];
  readonly additionals: readonly DnsResourceRecord[];
  readonly complete: boolean;
  /** Bytes the message occupies. */
  readonly size: number;
}

export interface DnsDecodeResult {
  readonly value?: DnsMessage;
  readonly diagnostics: readonly DnsDiagnostic[];
}

// RFC 1035 §3.2.2–3.2.5 and the IANA DNS parameters registry; Windows adds WINS and WINSR.
const typeNames: Readonly<Record<number, string>> = {
  1: 'A',
  2: 'NS',
  3: 'MD',
  4: 'MF',
  5: 'CNAME',
  6: 'SOA',
  7: 'MB',
  8: 'MG',
  9: 'MR',
  10: 'NULL',
  11: 'WKS',
  12: 'PTR',
  13: 'HINFO',
  14: 'MINFO',
  15: 'MX',
  16: 'TXT',
  17: 'RP',
  18: 'AFSDB',
  24: 'SIG',
  25: 'KEY',
  28: 'AAAA',
  29: 'LOC',
  33: 'SRV',
  35: 'NAPTR',
  36: 'KX',
  37: 'CERT',
  39: 'DNAME',
  41: 'OPT',
  42: 'APL',
  43: 'DS',
  44: 'SSHFP',
  45: 'IPSECKEY',
  46: 'RRSIG',
  47: 'NSEC',
  48: 'DNSKEY',
  49: 'DHCID',
  50: 'NSEC3',
  51: 'NSEC3PARAM',
  52: 'TLSA',
  53: 'SMIMEA',
  55: 'HIP',
  59: 'CDS',
  60: 'CDNSKEY',
  61: 'OPENPGPKEY',
  62: 'CSYNC',
  63: 'ZONEMD',
  64: 'SVCB',
  65: 'HTTPS',
  99: 'SPF',
  249: 'TKEY',
  250: 'TSIG',
  251: 'IXFR',
  252: 'AXFR',
  253: 'MAILB',
  254: 'MAILA',
  255: 'ANY',
  256: 'URI',
  257: 'CAA',
  65281: 'WINS',
  65282: 'WINSR',
};

const classNames: Readonly<Record<number, string>> = {
  1: 'IN',
  2: 'CS',
  3: 'CH',
  4: 'HS',
  254: 'NONE',
  255: 'ANY',
};

// RFC 1035 §4.1.1, RFC 1996 (NOTIFY), RFC 2136 (UPDATE), RFC 8490 (DSO).
const opcodeNames: Readonly<Record<number, string>> = {
  0: 'QUERY',
  1: 'IQUERY',
  2: 'STATUS',
  4: 'NOTIFY',
  5: 'UPDATE',
  6: 'DSO',
};

// RFC 1035 §4.1.1 and RFC 2136 §2.2.
const rcodeNames: Readonly<Record<number, string>> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
  6: 'YXDOMAIN',
  7: 'YXRRSET',
  8: 'NXRRSET',
  9: 'NOTAUTH',
  10: 'NOTZONE',
};

/** The mnemonic of a record type, or `TYPEnnn` (RFC 3597 §5) when it has none here. */
export function dnsTypeName(type: number): string {
  return typeNames[type] ?? `TYPE${type}`;
}

/** The mnemonic of a class, or `CLASSnnn` (RFC 3597 §5). */
export function dnsClassName(cls: number): string {
  return classNames[cls] ?? `CLASS${cls}`;
}

/** Whether any question asks for a full (AXFR) or incremental (IXFR) zone transfer. */
export function isZoneTransfer(message: DnsMessage): boolean {
  return message.questions.some((q) => q.type === 252 || q.type === 251);
}

const HEADER_SIZE = 12;
// RFC 1035 §2.3.4: a name is at most 255 octets on the wire, a label at most 63.
const MAX_NAME_OCTETS = 255;

/**
 * Decodes one DNS message: a UDP payload, or one TCP message without its length prefix.
 * @example decodeDnsMessage(udpPayload).value?.questions[0]?.name
 */
export function decodeDnsMessage(bytes: Uint8Array, base = 0): DnsDecodeResult {
  const r = new ByteReader(bytes, base);
  let header: DnsHeader;
  try {
    header = readHeader(r);
  } catch (error) {
    return { diagnostics: [toDiagnostic(error)] };
  }
  const questions: DnsQuestion[] = [];
  const answers: DnsResourceRecord[] = [];
  const authorities: DnsResourceRecord[] = [];
  const additionals: DnsResourceRecord[] = [];
  const diagnostics: DnsDiagnostic[] = [];
  let offset = HEADER_SIZE;
  let complete = true;
  try {
    // Each entry consumes at least five bytes, so the counts cannot outrun the data.
    for (let i = 0; i < header.qdCount; i++) {
      const name = readName(r, offset, `question ${i} name`);
      const type = r.u16be(name.end, `question ${i} type`);
      const cls = r.u16be(name.end + 2, `question ${i} class`);
      questions.push({
        name: name.name,
        type,
        typeName: dnsTypeName(type),
        class: cls,
        className: dnsClassName(cls),
      });
      offset = name.end + 4;
    }
    const sections: [number, DnsResourceRecord[], string][] = [
      [header.anCount, answers, 'answer'],
      [header.nsCount, authorities, 'authority'],
      [header.arCount, additionals, 'additional'],
    ];
    for (const [count, records, section] of sections) {
      for (let i = 0; i < count; i++) {
        const record = readRecord(r, offset, `${section} ${i}`);
        records.push(record.value);
        offset = record.end;
      }
    }
    if (offset < bytes.length) {
      diagnostics.push({
        severity: 'warning',
        code: 'dns/trailing-bytes',
        message: `expected the message to end after its records, found ${bytes.length - offset} more bytes`,
        offset: base + offset,
      });
    }
  } catch (error) {
    complete = false;
    diagnostics.push(toDiagnostic(error));
  }
  return {
    value: {
      header,
      questions,
      answers,
      authorities,
      additionals,
      complete,
      size: complete ? bytes.length : offset,
    },
    diagnostics,
  };
}

function readHeader(r: ByteReader): DnsHeader {
  r.ensure(0, HEADER_SIZE, 'DNS header');
  const flags = r.u16be(2, 'flags');
  const opcode = (flags >> 11) & 0xf;
  const rcode = flags & 0xf;
  return {
    id: r.u16be(0, 'id'),
    qr: (flags & 0x8000) !== 0,
    opcode,
    opcodeName: opcodeNames[opcode] ?? `OPCODE${opcode}`,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    z: (flags & 0x0040) !== 0,
    ad: (flags & 0x0020) !== 0,
    cd: (flags & 0x0010) !== 0,
    rcode,
    rcodeName: rcodeNames[rcode] ?? `RCODE${rcode}`,
    qdCount: r.u16be(4, 'QDCOUNT'),
    anCount: r.u16be(6, 'ANCOUNT'),
    nsCount: r.u16be(8, 'NSCOUNT'),
    arCount: r.u16be(10, 'ARCOUNT'),
  };
}

function readRecord(r: ByteReader, offset: number, field: string): { value: DnsResourceRecord; end: number } {
  const name = readName(r, offset, `${field} name`);
  const at = name.end;
  const type = r.u16be(at, `${field} type`);
  const cls = r.u16be(at + 2, `${field} class`);
  const ttl = r.u32be(at + 4, `${field} TTL`);
  const rdLength = r.u16be(at + 8, `${field} RDLENGTH`);
  const start = at + 10;
  r.ensure(start, rdLength, `${field} RDATA`);
  return {
    value: {
      name: name.name,
      type,
      typeName: dnsTypeName(type),
      class: cls,
      className: dnsClassName(cls),
      ttl,
      rdLength,
      data: readRdata(r, type, start, rdLength, `${field} RDATA`),
    },
    end: start + rdLength,
  };
}

function readRdata(r: ByteReader, type: number, start: number, length: number, field: string): DnsRdata {
  // Names inside RDATA may point anywhere earlier in the message, but must end inside it.
  const name = (at: number, what: string): { name: string; end: number } => {
    const n = readName(r, at, `${field} ${what}`);
    if (n.end > start + length)
      throw badValue(r, at, `${field} ${what}`, 'a name inside RDATA', 'one past its end');
    return n;
  };
  const expectLength = (size: number): void => {
    if (length !== size) throw badValue(r, start, `${field} length`, `${size} bytes`, `${length}`);
  };
  switch (type) {
    case 1:
      expectLength(4);
      return { kind: 'a', address: Array.from(r.slice(start, 4, field)).join('.') };
    case 28:
      expectLength(16);
      return { kind: 'aaaa', address: formatIpv6(r.slice(start, 16, field)) };
    case 5:
      return { kind: 'cname', cname: name(start, 'CNAME').name };
    case 2:
      return { kind: 'ns', nsdname: name(start, 'NSDNAME').name };
    case 12:
      return { kind: 'ptr', ptrdname: name(start, 'PTRDNAME').name };
    case 15:
      return {
        kind: 'mx',
        preference: r.u16be(start, `${field} PREFERENCE`),
        exchange: name(start + 2, 'EXCHANGE').name,
      };
    case 16: {
      const txtData: string[] = [];
      for (let at = start; at < start + length; ) {
        const size = r.u8(at, `${field} character-string length`);
        if (at + 1 + size > start + length) {
          throw badValue(r, at, `${field} character-string`, 'a string inside RDATA', `${size} bytes`);
        }
        txtData.push(r.latin1(at + 1, size, `${field} character-string`));
        at += 1 + size;
      }
      return { kind: 'txt', txtData };
    }
    case 33:
      return {
        kind: 'srv',
        priority: r.u16be(start, `${field} priority`),
        weight: r.u16be(start + 2, `${field} weight`),
        port: r.u16be(start + 4, `${field} port`),
        target: name(start + 6, 'target').name,
      };
    case 6: {
      const mname = name(start, 'MNAME');
      const rname = name(mname.end, 'RNAME');
      const at = rname.end;
      if (at + 20 > start + length) throw badValue(r, at, `${field} SOA counters`, '20 bytes', 'fewer');
      return {
        kind: 'soa',
        mname: mname.name,
        rname: rname.name,
        serial: r.u32be(at, `${field} SERIAL`),
        refresh: r.u32be(at + 4, `${field} REFRESH`),
        retry: r.u32be(at + 8, `${field} RETRY`),
        expire: r.u32be(at + 12, `${field} EXPIRE`),
        minimum: r.u32be(at + 16, `${field} MINIMUM`),
      };
    }
    default:
      return { kind: 'other', length };
  }
}

/**
 * A possibly compressed domain name (RFC 1035 §4.1.4). Each pointer must point before the
 * labels that led to it, so a chain of pointers always moves backwards and cannot loop.
 */
function readName(r: ByteReader, offset: number, field: string): { name: string; end: number } {
  const labels: string[] = [];
  let at = offset;
  let runStart = offset;
  let end = -1;
  let octets = 1;
  for (;;) {
    const length = r.u8(at, field);
    const tag = length & 0xc0;
    if (tag === 0xc0) {
      const target = ((length & 0x3f) << 8) | r.u8(at + 1, field);
      if (end < 0) end = at + 2;
      if (target >= runStart) {
        throw new ParseError<DnsDiagnosticCode>({
          code: 'dns/bad-name',
          offset: r.base + at,
          field,
          expected: `a compression pointer before 0x${runStart.toString(16)}`,
          found: `0x${target.toString(16)}`,
        });
      }
      at = target;
      runStart = target;
      continue;
    }
    if (tag !== 0) {
      throw new ParseError<DnsDiagnosticCode>({
        code: 'dns/bad-name',
        offset: r.base + at,
        field,
        expected: 'a label length or a compression pointer',
        found: `label type 0x${tag.toString(16)}`,
      });
    }
    if (length === 0) {
      if (end < 0) end = at + 1;
      break;
    }
    octets += length + 1;
    if (octets > MAX_NAME_OCTETS) {
      throw new ParseError<DnsDiagnosticCode>({
        code: 'dns/bad-name',
        offset: r.base + at,
        field,
        expected: `a name of at most ${MAX_NAME_OCTETS} octets`,
        found: `${octets} or more`,
      });
    }
    labels.push(labelText(r.slice(at + 1, length, field)));
    at += 1 + length;
  }
  return { name: labels.length === 0 ? '.' : labels.join('.'), end };
}

// Presentation form of a label (RFC 4343 §2.1): dots, backslashes and bytes outside printable
// ASCII are escaped, so names made of arbitrary bytes stay unambiguous.
function labelText(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) {
    if (b === 0x2e || b === 0x5c) s += `\\${String.fromCharCode(b)}`;
    else if (b > 0x20 && b < 0x7f) s += String.fromCharCode(b);
    else s += `\\${b.toString().padStart(3, '0')}`;
  }
  return s;
}

/** RFC 5952 text form: lower case, leading zeros dropped, the longest run of zero groups as `::`. */
function formatIpv6(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength && j - i > 1) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

function badValue(r: ByteReader, offset: number, field: string, expected: string, found: string): ParseError {
  return new ParseError<DnsDiagnosticCode>({
    code: 'dns/bad-value',
    offset: r.base + offset,
    field,
    expected,
    found,
  });
}

function toDiagnostic(error: unknown): DnsDiagnostic {
  if (!(error instanceof ParseError)) throw error;
  const code: DnsDiagnosticCode =
    error.code === 'binary/out-of-bounds'
      ? 'dns/truncated'
      : (dnsDiagnosticCodes as readonly string[]).includes(error.code)
        ? (error.code as DnsDiagnosticCode)
        : 'dns/bad-value';
  return { severity: 'error', code, message: error.message, offset: error.offset };
}

/** What one push to a TCP stream produced. */
export interface DnsStreamResult {
  readonly messages: readonly DnsMessage[];
  readonly diagnostics: readonly DnsDiagnostic[];
}

/**
 * Splits one direction of a DNS-over-TCP connection (RFC 1035 §4.2.2: each message behind a
 * two-byte length) into messages, whatever the segment boundaries. A message is at most
 * 65,535 bytes, so the buffer never holds more than that plus one segment.
 * @example const s = new DnsTcpStream(); for (const seg of segments) s.push(seg).messages
 */
export class DnsTcpStream {
  #buffer: Uint8Array = new Uint8Array(0);
  /** Stream offset of the first buffered byte. */
  #offset = 0;

  push(chunk: Uint8Array): DnsStreamResult {
    const merged = new Uint8Array(this.#buffer.length + chunk.length);
    merged.set(this.#buffer);
    merged.set(chunk, this.#buffer.length);
    const messages: DnsMessage[] = [];
    const diagnostics: DnsDiagnostic[] = [];
    let at = 0;
    while (merged.length - at >= 2) {
      const length = ((merged[at] ?? 0) << 8) | (merged[at + 1] ?? 0);
      if (length === 0) {
        diagnostics.push({
          severity: 'warning',
          code: 'dns/empty-message',
          message: `expected a message length above 0, found 0 at 0x${(this.#offset + at).toString(16)}`,
          offset: this.#offset + at,
        });
        at += 2;
        continue;
      }
      if (merged.length - at - 2 < length) break;
      const result = decodeDnsMessage(merged.subarray(at + 2, at + 2 + length), this.#offset + at + 2);
      if (result.value) messages.push(result.value);
      diagnostics.push(...result.diagnostics);
      at += 2 + length;
    }
    this.#buffer = merged.slice(at);
    this.#offset += at;
    return { messages, diagnostics };
  }

  /**
   * Notes `length` bytes missing from the stream (a capture gap). The partial message before
   * it is dropped; the next push is taken to start a new message.
   */
  gap(length: number): readonly DnsDiagnostic[] {
    const left = this.#drop(`a capture gap of ${length} bytes`);
    this.#offset += length;
    return left;
  }

  /** Reports bytes left over when the connection closes mid-message. */
  end(): readonly DnsDiagnostic[] {
    return this.#drop('the end of the stream');
  }

  #drop(where: string): DnsDiagnostic[] {
    if (this.#buffer.length === 0) return [];
    const left = this.#buffer.length;
    const diagnostic: DnsDiagnostic = {
      severity: 'error',
      code: 'dns/truncated',
      message: `expected a whole length-prefixed message, found ${left} bytes (${hexPreview(this.#buffer, 0, 8)}) before ${where}`,
      offset: this.#offset,
    };
    this.#offset += left;
    this.#buffer = new Uint8Array(0);
    return [diagnostic];
  }
}
