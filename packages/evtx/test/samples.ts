// Synthetic records for the rendering tests and as extra mutation bases: every value type with
// its expected text, a Security logon event written as Windows would, a UserData event whose
// payload is a nested BinXML value, and the rarer tokens (CDATA, references, PIs).
import {
  type BinXml,
  ChunkBuilder,
  evtxFile,
  hexBytes,
  type TemplateSpec,
  utf16,
  type Value,
} from './evtx-builder.ts';

/**
 * [Data name, value type (MS-EVEN6 §2.2.12), value bytes, expected text]. Bytes and texts were
 * computed with Python 3 (struct, uuid, datetime), independently of the parser:
 * struct.pack with the named format, uuid.UUID(...).bytes_le (MS-DTYP §2.3.4.2 GUID layout),
 * (datetime - datetime(1601,1,1)) in 100 ns ticks for FILETIME, struct.pack('<8H', year,
 * month, weekday, day, h, m, s, ms) for SYSTEMTIME (MS-DTYP §2.3.13), revision, count, 48-bit
 * big-endian authority and little-endian sub-authorities for SIDs (MS-DTYP §2.4.2.2).
 */
export const valueCases: readonly (readonly [string, number, string, string])[] = [
  ['Int8', 0x03, '80', '-128'], // pack('<b', -128)
  ['UInt8', 0x04, 'ff', '255'], // pack('<B', 255)
  ['Int16', 0x05, '0080', '-32768'], // pack('<h', -32768)
  ['UInt16', 0x06, 'ffff', '65535'], // pack('<H', 65535)
  ['Int32', 0x07, '00000080', '-2147483648'], // pack('<i', -2**31)
  ['UInt32', 0x08, 'ffffffff', '4294967295'], // pack('<I', 2**32-1)
  ['Int64', 0x09, '0000000000000080', '-9223372036854775808'], // pack('<q', -2**63)
  ['UInt64', 0x0a, 'ffffffffffffffff', '18446744073709551615'], // pack('<Q', 2**64-1), above 2^53
  ['Real32', 0x0b, '0000c03f', '1.5'], // pack('<f', 1.5)
  // Shortest text that reads back as the same float32 (numpy: repr(np.float32(x))).
  ['Real32Pow24', 0x0b, '0000804b', '16777216'], // pack('<f', 16777216.0); repr(np.float32(16777216)) = 16777216.0
  ['Real32Tenth', 0x0b, 'cdcccc3d', '0.1'], // pack('<f', 0.1); repr(np.float32(0.1)) = 0.1
  ['Real32Pi', 0x0b, 'd00f4940', '3.14159'], // pack('<f', 3.14159); repr(np.float32(3.14159)) = 3.14159
  ['Real64', 0x0c, '9a9999999999b93f', '0.1'], // pack('<d', 0.1); repr(0.1)
  ['Real64Big', 0x0c, '9c7500883ce4377e', '1e+300'], // pack('<d', 1e300); repr(1e300)
  ['BoolTrue', 0x0d, '01000000', 'true'], // 32-bit BOOL 1
  ['BoolFalse', 0x0d, '00000000', 'false'],
  ['Binary', 0x0e, '0001abff', '0001ABFF'], // bytes.hex().upper()
  ['Guid', 0x0f, '2596845478549449a5ba3e3b0328c30d', '{54849625-5478-4994-A5BA-3E3B0328C30D}'],
  ['SizeT4', 0x10, '34120000', '0x1234'], // pack('<I', 0x1234); hex(0x1234)
  ['SizeT8', 0x10, 'f0debc9a78563412', '0x123456789abcdef0'], // pack('<Q', ...); hex(...)
  ['FileTime', 0x11, '07a07a15b410d701', '2021-03-04T05:06:07.1234567Z'], // 2021-03-04 05:06:07.123456 + 7 ticks
  ['SystemTime', 0x12, 'e307080003000e000e0006002c00ef01', '2019-08-14T14:06:44.495Z'], // a Wednesday (3)
  [
    'Sid',
    0x13,
    '010500000000000515000000c7f7fed77c7755c8945ace01f5030000',
    'S-1-5-21-3623811015-3361044348-30300820-1013',
  ],
  ['HexInt32', 0x14, 'efbeadde', '0xdeadbeef'], // pack('<I', 0xdeadbeef); hex(...)
  ['HexInt64', 0x15, '0000000000002080', '0x8020000000000000'], // pack('<Q', 0x8020000000000000)
  ['String', 0x01, '6800e9006c006c006f00200034d81edd20007700f60072006c006400', 'héllo 𝄞 wörld'], // .encode('utf-16-le'), a surrogate pair
  ['StringNul', 0x01, '6100620063000000', 'abc'], // 'abc\0'.encode('utf-16-le'): the NUL is not text
  ['Ansi', 0x02, '636166e9', 'café'], // b'caf\xe9'.decode('latin-1')
];

/** 'alpha\0beta\0'.encode('utf-16-le'): a string array, one <Data> per item. */
export const STRING_ARRAY = '61006c00700068006100000062006500740061000000';
/** struct.pack('<3H', 1, 2, 65535): a uint16 array. */
export const UINT16_ARRAY = '01000200ffff';

const valueTemplate: TemplateSpec = {
  guid: hexBytes('0f0e0d0c0b0a09080706050403020100'),
  body: (x) => {
    x.fragmentHeader().element('Event').close().element('EventData').close();
    valueCases.forEach(([name, type], i) => {
      x.element('Data', [['Name', (a) => a.text(name)]])
        .close()
        .sub(i, type)
        .end();
    });
    const n = valueCases.length;
    // Arrays in unnamed <Data>, then an optional value that is absent (type 0x00, size 0).
    x.element('Data').close().sub(n, 0x81).end();
    x.element('Data')
      .close()
      .sub(n + 1, 0x86)
      .end();
    x.element('Binary')
      .close()
      .sub(n + 2, 0x0e, true)
      .end();
    x.end().end().eos();
  },
};

/** A record with one <Data> per value case, two arrays and an absent optional <Binary>. */
export function addValueRecord(c: ChunkBuilder, id: number): void {
  const values: Value[] = valueCases.map(([, type, bytes]) => ({ type, bytes: hexBytes(bytes) }));
  values.push({ type: 0x81, bytes: hexBytes(STRING_ARRAY) });
  values.push({ type: 0x86, bytes: hexBytes(UINT16_ARRAY) });
  values.push({ type: 0x00, bytes: new Uint8Array(0) });
  c.record(id, (x) => x.fragmentHeader().instance(valueTemplate, values).eos());
}

function attr(name: string, write: (x: BinXml) => void): readonly [string, (x: BinXml) => void] {
  return [name, write];
}

// The System block as Windows writes it for Security events: literal names, values substituted.
const logonTemplate: TemplateSpec = {
  guid: hexBytes('a0a1a2a3a4a5a6a7a8a9aaabacadaeaf'),
  body: (x) =>
    x
      .fragmentHeader()
      .element('Event', [
        attr('xmlns', (a) => a.text('http://schemas.microsoft.com/win/2004/08/events/event')),
      ])
      .close()
      .element('System')
      .close()
      .element('Provider', [
        attr('Name', (a) => a.text('Microsoft-Windows-Security-Auditing')),
        attr('Guid', (a) => a.sub(0, 0x0f)),
      ])
      .closeEmpty()
      .element('EventID')
      .close()
      .sub(1, 0x06)
      .end()
      .element('Version')
      .close()
      .sub(2, 0x04)
      .end()
      .element('Level')
      .close()
      .sub(3, 0x04)
      .end()
      .element('Task')
      .close()
      .sub(4, 0x06)
      .end()
      .element('Opcode')
      .close()
      .sub(5, 0x04)
      .end()
      .element('Keywords')
      .close()
      .sub(6, 0x15)
      .end()
      .element('TimeCreated', [attr('SystemTime', (a) => a.sub(7, 0x11))])
      .closeEmpty()
      .element('EventRecordID')
      .close()
      .sub(8, 0x0a)
      .end()
      .element('Correlation', [attr('ActivityID', (a) => a.sub(9, 0x0f, true))])
      .closeEmpty()
      .element('Execution', [
        attr('ProcessID', (a) => a.sub(10, 0x08)),
        attr('ThreadID', (a) => a.sub(11, 0x08)),
      ])
      .closeEmpty()
      .element('Channel')
      .close()
      .sub(12, 0x01)
      .end()
      .element('Computer')
      .close()
      .sub(13, 0x01)
      .end()
      .element('Security', [attr('UserID', (a) => a.sub(14, 0x13, true))])
      .closeEmpty()
      .end()
      .element('EventData')
      .close()
      .element('Data', [attr('Name', (a) => a.text('TargetUserSid'))])
      .close()
      .sub(15, 0x13)
      .end()
      .element('Data', [attr('Name', (a) => a.text('TargetUserName'))])
      .close()
      .sub(16, 0x01)
      .end()
      .element('Data', [attr('Name', (a) => a.text('LogonType'))])
      .close()
      .sub(17, 0x06)
      .end()
      .element('Data', [attr('Name', (a) => a.text('TargetLogonId'))])
      .close()
      .sub(18, 0x15)
      .end()
      .end()
      .end()
      .eos(),
};

/**
 * A 4624 logon event; goldens/logon-4624.xml is its XML. Value bytes from Python struct.pack
 * and uuid as for valueCases; the FILETIME is SOME_FILETIME (2019-08-14T14:06:44.4956748Z).
 */
export function addLogonRecord(c: ChunkBuilder, id: number): void {
  const values: Value[] = [
    { type: 0x0f, bytes: hexBytes('2596845478549449a5ba3e3b0328c30d') }, // {54849625-5478-4994-A5BA-3E3B0328C30D}
    { type: 0x06, bytes: hexBytes('1012') }, // 4624
    { type: 0x04, bytes: hexBytes('02') },
    { type: 0x04, bytes: hexBytes('00') },
    { type: 0x06, bytes: hexBytes('0031') }, // 12544
    { type: 0x04, bytes: hexBytes('00') },
    { type: 0x15, bytes: hexBytes('0000000000002080') }, // 0x8020000000000000
    { type: 0x11, bytes: hexBytes('4cd40681a952d501') }, // pack('<Q', 132102652044956748)
    { type: 0x0a, bytes: hexBytes('0700000000000000') }, // 7
    { type: 0x00, bytes: new Uint8Array(0) }, // no ActivityID
    { type: 0x08, bytes: hexBytes('74020000') }, // 628
    { type: 0x08, bytes: hexBytes('0c140000') }, // 5132
    { type: 0x01, bytes: utf16('Security') },
    { type: 0x01, bytes: utf16('DC01.example.local') },
    { type: 0x00, bytes: new Uint8Array(0) }, // no UserID
    { type: 0x13, bytes: hexBytes('010100000000000512000000') }, // S-1-5-18
    { type: 0x01, bytes: utf16('bob <admin> & co') },
    { type: 0x06, bytes: hexBytes('0300') },
    { type: 0x15, bytes: hexBytes('e703000000000000') }, // 0x3e7
  ];
  c.record(id, (x) => x.fragmentHeader().instance(logonTemplate, values).eos());
}

const clearedTemplate: TemplateSpec = {
  guid: hexBytes('c0c1c2c3c4c5c6c7c8c9cacbcccdcecf'),
  body: (x) =>
    x
      .fragmentHeader()
      .element('LogFileCleared', [
        attr('xmlns', (a) => a.text('http://manifests.microsoft.com/win/2004/08/windows/eventlog')),
      ])
      .close()
      .element('SubjectUserName')
      .close()
      .sub(0, 0x01)
      .end()
      .element('SubjectDomainName')
      .close()
      .sub(1, 0x01)
      .end()
      .end()
      .eos(),
};

const userDataTemplate: TemplateSpec = {
  guid: hexBytes('d0d1d2d3d4d5d6d7d8d9dadbdcdddedf'),
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
      .element('UserData')
      .close()
      .sub(1, 0x21)
      .end()
      .end()
      .eos(),
};

/** Event 1102 whose UserData is a BinXML value (0x21) holding its own template instance, as Windows stores it. */
export function addUserDataRecord(c: ChunkBuilder, id: number): void {
  c.record(id, (x) =>
    x
      .fragmentHeader()
      .instance(userDataTemplate, [
        { type: 0x06, bytes: hexBytes('4e04') }, // 1102
        {
          type: 0x21,
          fragment: (v) =>
            v
              .fragmentHeader()
              .instance(clearedTemplate, [
                { type: 0x01, bytes: utf16('bob') },
                { type: 0x01, bytes: utf16('CORP') },
              ])
              .eos(),
        },
      ])
      .eos(),
  );
}

/** A record using the rarer tokens directly: CDATA, a character reference, an entity reference, a PI. */
export function addTokenRecord(c: ChunkBuilder, id: number): void {
  c.record(id, (x) => {
    x.fragmentHeader().element('Event').close().element('EventData').close();
    x.element('Data', [['Name', (a) => a.text('Ref')]])
      .close()
      .text('a')
      .charRef(0x263a)
      .entityRef('amp')
      .text('b')
      .end();
    x.element('Data', [['Name', (a) => a.text('Raw')]])
      .close()
      .cdata('<not markup>')
      .pi('xsl', 'href')
      .end();
    x.end().end().eos();
  });
}

/** One file holding each kind of synthetic record, for the mutation test to corrupt as well. */
export function sampleFile(): Uint8Array {
  const c = new ChunkBuilder();
  addLogonRecord(c, 1);
  addValueRecord(c, 2);
  addUserDataRecord(c, 3);
  addTokenRecord(c, 4);
  addLogonRecord(c, 5);
  return evtxFile([c.finish()]);
}
