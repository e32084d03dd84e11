// Every modifier and condition form, as a tiny rule and hand-written events that must and must
// not match, through compileRuleSet(...).match(evtxEventFields(event)) so that the index and
// the literal prefilter take part. Expected results follow the Sigma specification and its
// modifiers appendix; encoded values were computed with Python (commands beside them).
import type { EvtxEvent } from '@palisade/evtx';
import type { Placeholders } from '@palisade/sigma';
import { describe, expect, it } from 'vitest';
import { evtxEventFields } from '../src/index.ts';
import { compileRules, sysmonProcess as proc, SYSMON, windowsEvent } from './hand-events.ts';

interface MatchCase {
  readonly name: string;
  /** The rule's logsource as a YAML flow map; process creation when not given. */
  readonly logsource?: string;
  /** The detection section, unindented. */
  readonly detection: string;
  readonly placeholders?: Placeholders;
  readonly match: readonly EvtxEvent[];
  readonly miss: readonly EvtxEvent[];
}

const processCreation = '{ product: windows, category: process_creation }';

function ruleText(c: MatchCase): string {
  const detection = c.detection
    .trim()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
  return `title: ${JSON.stringify(c.name)}\nlogsource: ${c.logsource ?? processCreation}\ndetection:\n${detection}\n`;
}

const cases: MatchCase[] = [
  // Plain values, case and wildcards.
  {
    name: 'a plain value matches the whole value, case-insensitively',
    detection: String.raw`
selection:
  Image: 'C:\Windows\System32\whoami.exe'
condition: selection`,
    match: [
      proc({ Image: 'C:\\Windows\\System32\\whoami.exe' }),
      proc({ Image: 'c:\\WINDOWS\\system32\\WhoAmI.exe' }),
    ],
    miss: [
      proc({ Image: 'C:\\Windows\\System32\\whoami.exe.bak' }),
      proc({ Image: 'D:\\whoami.exe' }),
      proc({}),
    ],
  },
  {
    name: 'a value with a dotted capital I matches itself in any case',
    detection: `
selection:
  User: 'İsmail'
condition: selection`,
    match: [proc({ User: 'İsmail' }), proc({ User: 'İSMAIL' })],
    miss: [proc({ User: 'Ismail2' })],
  },
  {
    name: 'cased matches only the exact case',
    detection: `
selection:
  CommandLine|cased: 'Invoke-Mimikatz'
condition: selection`,
    match: [proc({ CommandLine: 'Invoke-Mimikatz' })],
    miss: [proc({ CommandLine: 'invoke-mimikatz' }), proc({ CommandLine: 'INVOKE-MIMIKATZ' })],
  },
  {
    name: 'contains|cased is case-sensitive inside the value',
    detection: `
selection:
  CommandLine|contains|cased: 'DumpCreds'
condition: selection`,
    match: [proc({ CommandLine: 'Invoke-Mimikatz -DumpCreds' })],
    miss: [proc({ CommandLine: 'invoke-mimikatz -dumpcreds' })],
  },
  {
    name: 'contains finds the value anywhere',
    detection: `
selection:
  CommandLine|contains: 'sekurlsa::'
condition: selection`,
    match: [proc({ CommandLine: 'mimikatz SEKURLSA::logonpasswords' }), proc({ CommandLine: 'sekurlsa::' })],
    miss: [proc({ CommandLine: 'sekurlsa:' }), proc({ CommandLine: 'lsadump::sam' })],
  },
  {
    name: 'startswith and endswith anchor one end',
    detection: String.raw`
selection:
  CommandLine|startswith: 'net '
  Image|endswith: '\net.exe'
condition: selection`,
    match: [proc({ CommandLine: 'NET user', Image: 'C:\\Windows\\System32\\net.exe' })],
    miss: [
      proc({ CommandLine: 'cmd /c net user', Image: 'C:\\Windows\\System32\\net.exe' }),
      proc({ CommandLine: 'net user', Image: 'C:\\Windows\\System32\\net.exe.mui' }),
      proc({ CommandLine: 'net user', Image: 'C:\\Windows\\System32\\net1.exe' }),
    ],
  },
  {
    name: '* and ? are wildcards in plain values',
    detection: `
selection:
  CommandLine: 'net* user ?dmin'
condition: selection`,
    match: [proc({ CommandLine: 'net user admin' }), proc({ CommandLine: 'net1.exe user Xdmin' })],
    miss: [
      proc({ CommandLine: 'net user dmin' }),
      proc({ CommandLine: 'net user aadmin' }),
      proc({ CommandLine: 'xnet user admin' }),
    ],
  },
  {
    name: 'an escaped star is a plain star',
    detection: String.raw`
selection:
  CommandLine: 'echo \*'
condition: selection`,
    match: [proc({ CommandLine: 'echo *' })],
    miss: [
      proc({ CommandLine: 'echo x' }),
      proc({ CommandLine: 'echo \\*' }),
      proc({ CommandLine: 'echo ' }),
    ],
  },
  {
    name: 'an escaped question mark inside contains is a plain question mark',
    detection: String.raw`
selection:
  CommandLine|contains: 'what\?'
condition: selection`,
    match: [proc({ CommandLine: 'say what? now' })],
    miss: [proc({ CommandLine: 'say whatX now' })],
  },
  {
    name: 'a double backslash before a star is a backslash and then a wildcard',
    detection: String.raw`
selection:
  TargetFilename: 'C:\Temp\\*'
condition: selection`,
    match: [proc({ TargetFilename: 'C:\\Temp\\evil.dll' }), proc({ TargetFilename: 'C:\\Temp\\' })],
    miss: [proc({ TargetFilename: 'C:\\Temp*' }), proc({ TargetFilename: 'C:\\Tempo\\x' })],
  },
  {
    name: 'three backslashes before a star are a backslash and a plain star',
    detection: String.raw`
selection:
  TargetFilename: 'C:\Temp\\\*'
condition: selection`,
    match: [proc({ TargetFilename: 'C:\\Temp\\*' })],
    miss: [proc({ TargetFilename: 'C:\\Temp\\evil.dll' }), proc({ TargetFilename: 'C:\\Temp\\' })],
  },
  {
    name: 'a list of values means any of them',
    detection: String.raw`
selection:
  Image|endswith:
    - '\powershell.exe'
    - '\pwsh.exe'
condition: selection`,
    match: [proc({ Image: 'C:\\x\\powershell.exe' }), proc({ Image: 'C:\\x\\pwsh.exe' })],
    miss: [proc({ Image: 'C:\\x\\cmd.exe' })],
  },
  {
    name: 'contains|all needs every value',
    detection: `
selection:
  CommandLine|contains|all:
    - ' -nop'
    - ' -w hidden'
condition: selection`,
    match: [proc({ CommandLine: 'powershell -NoP -nop -W Hidden -c x' })],
    miss: [proc({ CommandLine: 'powershell -nop -c x' }), proc({ CommandLine: 'powershell -w hidden' })],
  },
  {
    name: 'a map needs every field; a list of maps needs any map',
    detection: String.raw`
selection:
  - Image|endswith: '\rundll32.exe'
    CommandLine|contains: 'javascript:'
  - OriginalFileName: 'RUNDLL32.EXE'
condition: selection`,
    match: [
      proc({ Image: 'C:\\rundll32.exe', CommandLine: 'rundll32 javascript:x' }),
      proc({ OriginalFileName: 'rundll32.exe' }),
    ],
    miss: [
      proc({ Image: 'C:\\rundll32.exe', CommandLine: 'rundll32 shell32.dll' }),
      proc({ CommandLine: 'javascript:' }),
    ],
  },
  {
    name: 'neq over a list means none of the values',
    detection: String.raw`
selection:
  User|neq:
    - 'NT AUTHORITY\SYSTEM'
    - 'NT AUTHORITY\LOCAL SERVICE'
condition: selection`,
    match: [proc({ User: 'CORP\\alice' })],
    miss: [proc({ User: 'NT AUTHORITY\\SYSTEM' }), proc({ User: 'nt authority\\local service' })],
  },
  {
    name: 'neq on a number',
    logsource: '{ product: windows, service: security }',
    detection: `
selection:
  EventID: 4624
  LogonType|neq: 3
condition: selection`,
    match: [windowsEvent({ channel: 'Security', eventId: 4624, data: { LogonType: '10' } })],
    miss: [windowsEvent({ channel: 'Security', eventId: 4624, data: { LogonType: '3' } })],
  },
  {
    name: 'numbers match their text, and EventID pins the event id',
    logsource: '{ product: windows, service: security }',
    detection: `
selection:
  EventID: 4624
  LogonType: 10
condition: selection`,
    match: [windowsEvent({ channel: 'Security', eventId: 4624, data: { LogonType: '10' } })],
    miss: [
      windowsEvent({ channel: 'Security', eventId: 4625, data: { LogonType: '10' } }),
      windowsEvent({ channel: 'Security', eventId: 4624, data: { LogonType: '100' } }),
      windowsEvent({ channel: 'System', eventId: 4624, data: { LogonType: '10' } }),
    ],
  },

  // null, empty and missing fields.
  {
    name: 'null matches a missing or empty field',
    detection: `
selection:
  ParentCommandLine: null
condition: selection`,
    match: [proc({ Image: 'x' }), proc({ ParentCommandLine: '' })],
    miss: [proc({ ParentCommandLine: 'explorer.exe' })],
  },
  {
    name: "'' matches only a present empty field",
    detection: `
selection:
  ParentCommandLine: ''
condition: selection`,
    match: [proc({ ParentCommandLine: '' })],
    miss: [proc({ Image: 'x' }), proc({ ParentCommandLine: 'explorer.exe' })],
  },
  {
    name: "not null, written as the specification says: 'selection and not filter'",
    detection: String.raw`
selection:
  Image|endswith: '\x.exe'
filter:
  ParentCommandLine: null
condition: selection and not filter`,
    match: [proc({ Image: 'C:\\x.exe', ParentCommandLine: 'a' })],
    miss: [proc({ Image: 'C:\\x.exe', ParentCommandLine: '' }), proc({ Image: 'C:\\x.exe' })],
  },
  {
    name: 'exists: true needs the field, empty or not',
    detection: `
selection:
  ParentCommandLine|exists: true
condition: selection`,
    match: [proc({ ParentCommandLine: '' }), proc({ ParentCommandLine: 'x' })],
    miss: [proc({ Image: 'x' })],
  },
  {
    name: 'exists: false needs the field absent',
    detection: `
selection:
  ParentCommandLine|exists: false
condition: selection`,
    match: [proc({ Image: 'x' })],
    miss: [proc({ ParentCommandLine: '' }), proc({ ParentCommandLine: 'x' })],
  },

  // Regular expressions.
  {
    name: 're is case-sensitive',
    detection: String.raw`
selection:
  CommandLine|re: '^cmd\.exe /c .*whoami$'
condition: selection`,
    match: [proc({ CommandLine: 'cmd.exe /c echo x & whoami' })],
    miss: [proc({ CommandLine: 'CMD.EXE /c whoami' }), proc({ CommandLine: 'cmdXexe /c whoami' })],
  },
  {
    name: 're|i ignores case',
    detection: String.raw`
selection:
  CommandLine|re|i: '^cmd\.exe /c .*whoami$'
condition: selection`,
    match: [proc({ CommandLine: 'CMD.EXE /C WHOAMI' })],
    miss: [proc({ CommandLine: 'cmd.exe /c whoami /all' })],
  },
  {
    name: 'a leading (?i) ignores case too',
    detection: String.raw`
selection:
  CommandLine|re: '(?i)^cmd\.exe'
condition: selection`,
    match: [proc({ CommandLine: 'CMD.exe /c x' })],
    miss: [proc({ CommandLine: 'xcmd.exe' })],
  },
  {
    name: 're without m anchors ^ and $ at the ends of the whole value',
    detection: `
selection:
  ScriptBlockText|re: '^whoami$'
condition: selection`,
    match: [proc({ ScriptBlockText: 'whoami' })],
    miss: [proc({ ScriptBlockText: 'line1\nwhoami\nline3' })],
  },
  {
    name: 're|m anchors ^ and $ at each line',
    detection: `
selection:
  ScriptBlockText|re|m: '^whoami$'
condition: selection`,
    match: [proc({ ScriptBlockText: 'line1\nwhoami\nline3' })],
    miss: [proc({ ScriptBlockText: 'line1 whoami line3' })],
  },
  {
    name: 're without s: the dot does not match a newline',
    detection: `
selection:
  ScriptBlockText|re: 'begin.end'
condition: selection`,
    match: [proc({ ScriptBlockText: 'begin-end' })],
    miss: [proc({ ScriptBlockText: 'begin\nend' })],
  },
  {
    name: 're|s: the dot matches a newline',
    detection: `
selection:
  ScriptBlockText|re|s: 'begin.end'
condition: selection`,
    match: [proc({ ScriptBlockText: 'begin\nend' }), proc({ ScriptBlockText: 'begin-end' })],
    miss: [proc({ ScriptBlockText: 'begin\n\nend' })],
  },

  // Encodings.
  {
    name: 'base64|contains finds the encoded value',
    detection: `
selection:
  CommandLine|base64|contains: 'whoami /all'
condition: selection`,
    // python3 -c "import base64; print(base64.b64encode(b'whoami /all').decode())" → d2hvYW1pIC9hbGw=
    match: [proc({ CommandLine: 'cmd /c echo d2hvYW1pIC9hbGw= | decode' })],
    miss: [proc({ CommandLine: 'whoami /all' })],
  },
  {
    name: 'base64offset finds the value at each of the three offsets in a longer encoded text',
    detection: `
selection:
  CommandLine|base64offset|contains: 'mimikatz'
condition: selection`,
    // python3 -c "import base64; print(base64.b64encode(b'start mimikatz sekurlsa::logonpasswords').decode())"
    // and the same for 'launch …' and 'execute …': 'mimikatz' starts 6, 7 and 8 bytes in (0, 1, 2 mod 3).
    match: [
      proc({ CommandLine: 'powershell -e c3RhcnQgbWltaWthdHogc2VrdXJsc2E6OmxvZ29ucGFzc3dvcmRz' }),
      proc({ CommandLine: 'powershell -e bGF1bmNoIG1pbWlrYXR6IHNla3VybHNhOjpsb2dvbnBhc3N3b3Jkcw==' }),
      proc({ CommandLine: 'powershell -e ZXhlY3V0ZSBtaW1pa2F0eiBzZWt1cmxzYTo6bG9nb25wYXNzd29yZHM=' }),
    ],
    // 'start notepad.exe' and 'execute mimikat sekurlsa' encoded the same way, and the plain text.
    miss: [
      proc({ CommandLine: 'powershell -e c3RhcnQgbm90ZXBhZC5leGU=' }),
      proc({ CommandLine: 'powershell -e ZXhlY3V0ZSBtaW1pa2F0IHNla3VybHNh' }),
      proc({ CommandLine: 'start mimikatz' }),
    ],
  },
  {
    name: 'utf16le|base64offset finds a UTF-16 value at each offset, as in powershell -enc',
    detection: `
selection:
  CommandLine|utf16le|base64offset|contains: 'Invoke-Mimikatz'
condition: selection`,
    // python3 -c "import base64; print(base64.b64encode('IEX Invoke-Mimikatz -DumpCreds'.encode('utf-16-le')).decode())"
    // and for 'Invoke-Mimikatz -DumpCreds' and '& Invoke-Mimikatz -DumpCreds': 0, 8 and 4 bytes in (0, 2, 1 mod 3).
    match: [
      proc({
        CommandLine:
          'powershell -enc SQBuAHYAbwBrAGUALQBNAGkAbQBpAGsAYQB0AHoAIAAtAEQAdQBtAHAAQwByAGUAZABzAA==',
      }),
      proc({
        CommandLine:
          'powershell -enc JgAgAEkAbgB2AG8AawBlAC0ATQBpAG0AaQBrAGEAdAB6ACAALQBEAHUAbQBwAEMAcgBlAGQAcwA=',
      }),
      proc({
        CommandLine:
          'powershell -enc SQBFAFgAIABJAG4AdgBvAGsAZQAtAE0AaQBtAGkAawBhAHQAegAgAC0ARAB1AG0AcABDAHIAZQBkAHMA',
      }),
    ],
    // 'Invoke-WebRequest x' in UTF-16LE, and 'Invoke-Mimikatz' in UTF-8 base64 (SW52b2tlLU1pbWlrYXR6).
    miss: [
      proc({ CommandLine: 'powershell -enc SQBuAHYAbwBrAGUALQBXAGUAYgBSAGUAcQB1AGUAcwB0ACAAeAA=' }),
      proc({ CommandLine: 'powershell -e SW52b2tlLU1pbWlrYXR6' }),
    ],
  },
  {
    name: 'utf16le, wide, utf16be and utf16 (with byte order mark) before base64',
    detection: `
le:
  CommandLine|utf16le|base64|contains: 'whoami'
wide:
  ParentCommandLine|wide|base64|contains: 'whoami'
be:
  Description|utf16be|base64: 'whoami'
bom:
  Product|utf16|base64: 'whoami'
condition: 1 of them`,
    // python3 -c "import base64; w='whoami'; print(*(base64.b64encode(b).decode() for b in
    //   (w.encode('utf-16-le'), w.encode('utf-16-be'), b'\xff\xfe'+w.encode('utf-16-le'), w.encode())))"
    //   → dwBoAG8AYQBtAGkA AHcAaABvAGEAbQBp //53AGgAbwBhAG0AaQA= d2hvYW1p
    match: [
      proc({ CommandLine: 'powershell -enc dwBoAG8AYQBtAGkA' }),
      proc({ ParentCommandLine: 'powershell -enc dwBoAG8AYQBtAGkA' }),
      proc({ Description: 'AHcAaABvAGEAbQBp' }),
      proc({ Product: '//53AGgAbwBhAG0AaQA=' }),
    ],
    miss: [
      proc({ CommandLine: 'powershell -enc d2hvYW1p' }),
      proc({ Description: 'dwBoAG8AYQBtAGkA' }),
      proc({ Product: 'dwBoAG8AYQBtAGkA' }),
    ],
  },

  // windash: each of the five dashes of the appendix, and one that is not among them.
  {
    name: 'windash accepts - / – — ― for a dash',
    detection: `
selection:
  CommandLine|windash|contains: ' -encodedcommand '
condition: selection`,
    match: [
      proc({ CommandLine: 'powershell -encodedcommand x' }),
      proc({ CommandLine: 'powershell /encodedcommand x' }),
      proc({ CommandLine: 'powershell \u2013encodedcommand x' }),
      proc({ CommandLine: 'powershell \u2014EncodedCommand x' }),
      proc({ CommandLine: 'powershell \u2015encodedcommand x' }),
    ],
    // U+2010 HYPHEN, a plus sign, and no dash at all.
    miss: [
      proc({ CommandLine: 'powershell \u2010encodedcommand x' }),
      proc({ CommandLine: 'powershell +encodedcommand x' }),
      proc({ CommandLine: 'powershell encodedcommand x' }),
    ],
  },

  // CIDR.
  {
    name: 'cidr with IPv4 networks, on and off octet boundaries',
    logsource: '{ product: windows, category: network_connection }',
    detection: `
selection:
  DestinationIp|cidr:
    - '10.0.0.0/8'
    - '192.168.2.0/23'
condition: selection`,
    match: [
      windowsEvent({ eventId: 3, data: { DestinationIp: '10.0.0.0' } }),
      windowsEvent({ eventId: 3, data: { DestinationIp: '10.255.255.255' } }),
      windowsEvent({ eventId: 3, data: { DestinationIp: '192.168.2.1' } }),
      windowsEvent({ eventId: 3, data: { DestinationIp: '192.168.3.254' } }),
    ],
    miss: [
      windowsEvent({ eventId: 3, data: { DestinationIp: '11.0.0.1' } }),
      windowsEvent({ eventId: 3, data: { DestinationIp: '9.255.255.255' } }),
      windowsEvent({ eventId: 3, data: { DestinationIp: '192.168.1.255' } }),
      windowsEvent({ eventId: 3, data: { DestinationIp: '192.168.4.0' } }),
      windowsEvent({ eventId: 3, data: { DestinationIp: '::ffff:10.0.0.1' } }),
      windowsEvent({ eventId: 3, data: { DestinationIp: 'not an address' } }),
    ],
  },
  {
    name: 'cidr with IPv6 networks in :: and full forms',
    logsource: '{ product: windows, category: network_connection }',
    detection: `
selection:
  DestinationIp|cidr:
    - 'fe80::/10'
    - '2001:db8::/32'
    - '::1/128'
condition: selection`,
    match: [
      windowsEvent({ eventId: 3, data: { DestinationIp: 'fe80::1' } }),
      windowsEvent({ eventId: 3, data: { DestinationIp: 'febf:ffff::1%12' } }),
      windowsEvent({ eventId: 3, data: { DestinationIp: '2001:0db8:0000:0000:0000:0000:0000:0001' } }),
      windowsEvent({ eventId: 3, data: { DestinationIp: '2001:DB8:ffff::' } }),
      windowsEvent({ eventId: 3, data: { DestinationIp: '0:0:0:0:0:0:0:1' } }),
      windowsEvent({ eventId: 3, data: { DestinationIp: '::1' } }),
    ],
    miss: [
      windowsEvent({ eventId: 3, data: { DestinationIp: 'fec0::1' } }),
      windowsEvent({ eventId: 3, data: { DestinationIp: '2001:db9::1' } }),
      windowsEvent({ eventId: 3, data: { DestinationIp: '2001:db7:ffff::1' } }),
      windowsEvent({ eventId: 3, data: { DestinationIp: '::2' } }),
      windowsEvent({ eventId: 3, data: { DestinationIp: '::' } }),
      windowsEvent({ eventId: 3, data: { DestinationIp: '10.0.0.1' } }),
    ],
  },
  {
    name: 'cidr with an IPv4-mapped IPv6 network',
    logsource: '{ product: windows, category: network_connection }',
    detection: `
selection:
  SourceIp|cidr: '::ffff:0:0/96'
condition: selection`,
    match: [windowsEvent({ eventId: 3, data: { SourceIp: '::ffff:10.1.2.3' } })],
    miss: [windowsEvent({ eventId: 3, data: { SourceIp: '10.1.2.3' } })],
  },

  // fieldref.
  {
    name: 'fieldref: the field equals another field',
    logsource: '{ product: windows, service: security }',
    detection: `
selection:
  TargetUserName|fieldref: SubjectUserName
condition: selection`,
    match: [
      windowsEvent({
        channel: 'Security',
        eventId: 4738,
        data: { TargetUserName: 'alice', SubjectUserName: 'alice' },
      }),
      windowsEvent({
        channel: 'Security',
        eventId: 4738,
        data: { TargetUserName: 'Alice', SubjectUserName: 'ALICE' },
      }),
    ],
    miss: [
      windowsEvent({
        channel: 'Security',
        eventId: 4738,
        data: { TargetUserName: 'alice', SubjectUserName: 'bob' },
      }),
      windowsEvent({ channel: 'Security', eventId: 4738, data: { TargetUserName: 'alice' } }),
      windowsEvent({ channel: 'Security', eventId: 4738, data: { SubjectUserName: 'alice' } }),
    ],
  },
  {
    name: 'fieldref with neq: the field differs from another field',
    logsource: '{ product: windows, service: security }',
    detection: `
selection:
  TargetUserName|fieldref|neq: SubjectUserName
condition: selection`,
    match: [
      windowsEvent({
        channel: 'Security',
        eventId: 4738,
        data: { TargetUserName: 'alice', SubjectUserName: 'bob' },
      }),
    ],
    miss: [
      windowsEvent({
        channel: 'Security',
        eventId: 4738,
        data: { TargetUserName: 'alice', SubjectUserName: 'ALICE' },
      }),
    ],
  },
  {
    name: 'fieldref with endswith and cased',
    detection: `
selection:
  Image|fieldref|endswith|cased: OriginalFileName
condition: selection`,
    match: [proc({ Image: 'C:\\Temp\\NOTEPAD.EXE', OriginalFileName: 'NOTEPAD.EXE' })],
    miss: [
      proc({ Image: 'C:\\Temp\\notepad.exe', OriginalFileName: 'NOTEPAD.EXE' }),
      proc({ Image: 'C:\\Temp\\NOTEPAD.EXE.x', OriginalFileName: 'NOTEPAD.EXE' }),
    ],
  },

  // expand.
  {
    name: 'expand replaces a placeholder with each of its values',
    logsource: '{ product: windows, service: security }',
    placeholders: { Administrators: ['root', 'adm_*'] },
    detection: `
selection:
  TargetUserName|expand: '%Administrators%'
condition: selection`,
    match: [
      windowsEvent({ channel: 'Security', eventId: 4624, data: { TargetUserName: 'ROOT' } }),
      windowsEvent({ channel: 'Security', eventId: 4624, data: { TargetUserName: 'adm_bob' } }),
    ],
    miss: [
      windowsEvent({ channel: 'Security', eventId: 4624, data: { TargetUserName: '%Administrators%' } }),
      windowsEvent({ channel: 'Security', eventId: 4624, data: { TargetUserName: 'bob' } }),
    ],
  },

  // Numbers and times.
  {
    name: 'lt, lte, gt and gte compare numeric strings as numbers',
    detection: `
low:
  TerminalSessionId|lt: 2
high:
  ProcessId|gte: 10000
condition: low and high`,
    match: [
      proc({ TerminalSessionId: '1', ProcessId: '10000' }),
      proc({ TerminalSessionId: '0', ProcessId: '99999' }),
    ],
    // 9999 < 10000 although '9999' > '10000' as text; 2 is not below 2; text is not a number.
    miss: [
      proc({ TerminalSessionId: '1', ProcessId: '9999' }),
      proc({ TerminalSessionId: '2', ProcessId: '10000' }),
      proc({ TerminalSessionId: 'one', ProcessId: '10000' }),
      proc({ TerminalSessionId: '', ProcessId: '10000' }),
      proc({ ProcessId: '10000' }),
    ],
  },
  {
    name: 'lte and gt at their boundaries',
    detection: `
selection:
  TerminalSessionId|lte: 2
  ProcessId|gt: 4
condition: selection`,
    match: [
      proc({ TerminalSessionId: '2', ProcessId: '5' }),
      proc({ TerminalSessionId: '-1', ProcessId: '4.5' }),
    ],
    miss: [
      proc({ TerminalSessionId: '3', ProcessId: '5' }),
      proc({ TerminalSessionId: '2', ProcessId: '4' }),
    ],
  },
  {
    name: 'minute, hour, day, month and year of a timestamp',
    detection: `
selection:
  UtcTime|minute: 20
  UtcTime|hour: 10
  UtcTime|day: 5
  UtcTime|month: 3
  UtcTime|year: 2024
condition: selection`,
    match: [proc({ UtcTime: '2024-03-05 10:20:30.123' }), proc({ UtcTime: '2024-03-05T10:20:59Z' })],
    miss: [
      proc({ UtcTime: '2024-03-05 10:21:30.123' }),
      proc({ UtcTime: '2024-03-05 11:20:30.123' }),
      proc({ UtcTime: '2024-03-06 10:20:30.123' }),
      proc({ UtcTime: '2024-04-05 10:20:30.123' }),
      proc({ UtcTime: '2023-03-05 10:20:30.123' }),
      proc({ UtcTime: 'yesterday' }),
    ],
  },
  {
    name: 'week is the ISO 8601 week; time parts combine with comparisons',
    detection: `
selection:
  UtcTime|week: 10
night:
  UtcTime|hour|gte: 22
condition: selection or night`,
    // python3 -c "import datetime; print(datetime.date(2024,3,5).isocalendar().week,
    //   datetime.date(2024,3,11).isocalendar().week, datetime.date(2024,3,10).isocalendar().week)" → 10 11 10
    match: [
      proc({ UtcTime: '2024-03-05 10:20:30.123' }),
      proc({ UtcTime: '2024-03-10 12:00:00.000' }),
      proc({ UtcTime: '2024-07-01 23:00:00.000' }),
    ],
    miss: [proc({ UtcTime: '2024-03-11 12:00:00.000' }), proc({ UtcTime: '2024-07-01 21:59:59.000' })],
  },

  // Keywords.
  {
    name: 'keywords: any value, found anywhere in any field',
    logsource: '{ product: windows, service: system }',
    detection: `
keywords:
  - 'event::clear'
  - 'event::drop'
condition: keywords`,
    match: [
      windowsEvent({ channel: 'System', eventId: 7045, data: { ImagePath: 'mimikatz EVENT::Clear' } }),
      windowsEvent({ channel: 'System', eventId: 104, data: { A: 'x', B: 'run event::drop now' } }),
    ],
    miss: [windowsEvent({ channel: 'System', eventId: 7045, data: { ImagePath: 'event:: clear' } })],
  },
  {
    name: "'|all' keywords: every value, each in any field",
    logsource: '{ product: windows, service: system }',
    detection: `
keywords:
  '|all':
    - 'OabVirtualDirectory'
    - ' -ExternalUrl '
condition: keywords`,
    match: [
      windowsEvent({ channel: 'System', eventId: 1, data: { A: 'Set-OabVirtualDirectory -ExternalUrl x' } }),
      windowsEvent({
        channel: 'System',
        eventId: 1,
        data: { A: 'oabvirtualdirectory', B: 'y -externalurl z' },
      }),
    ],
    miss: [windowsEvent({ channel: 'System', eventId: 1, data: { A: 'Set-OabVirtualDirectory' } })],
  },

  // Conditions.
  {
    name: '1 of selection_* needs any of them',
    detection: String.raw`
selection_img:
  Image|endswith: '\certutil.exe'
selection_cli:
  CommandLine|contains: 'urlcache'
condition: 1 of selection_*`,
    match: [proc({ Image: 'C:\\certutil.exe' }), proc({ CommandLine: 'x -urlcache' })],
    miss: [proc({ Image: 'C:\\cmd.exe', CommandLine: 'dir' })],
  },
  {
    name: 'all of selection_* needs every one of them',
    detection: String.raw`
selection_img:
  Image|endswith: '\certutil.exe'
selection_cli:
  CommandLine|contains: 'urlcache'
condition: all of selection_*`,
    match: [proc({ Image: 'C:\\certutil.exe', CommandLine: 'certutil -urlcache -f' })],
    miss: [proc({ Image: 'C:\\certutil.exe' }), proc({ CommandLine: 'x -urlcache' })],
  },
  {
    name: '1 of them leaves out identifiers starting with an underscore',
    detection: String.raw`
selection:
  Image|endswith: '\certutil.exe'
_helper:
  User: 'alice'
condition: 1 of them`,
    match: [proc({ Image: 'C:\\certutil.exe' })],
    miss: [proc({ User: 'alice' })],
  },
  {
    name: 'all of them leaves out identifiers starting with an underscore',
    detection: String.raw`
selection_img:
  Image|endswith: '\certutil.exe'
selection_cli:
  CommandLine|contains: 'urlcache'
_never:
  User: 'nobody'
condition: all of them`,
    match: [proc({ Image: 'C:\\certutil.exe', CommandLine: '-urlcache', User: 'alice' })],
    miss: [proc({ Image: 'C:\\certutil.exe', User: 'nobody' })],
  },
  {
    name: "'a or b and not c' is 'a or (b and (not c))'",
    detection: `
a:
  CommandLine|contains: 'alpha'
b:
  CommandLine|contains: 'beta'
c:
  CommandLine|contains: 'gamma'
condition: a or b and not c`,
    match: [
      proc({ CommandLine: 'alpha' }),
      proc({ CommandLine: 'beta' }),
      proc({ CommandLine: 'alpha gamma' }),
      proc({ CommandLine: 'alpha beta gamma' }),
    ],
    miss: [
      proc({ CommandLine: 'beta gamma' }),
      proc({ CommandLine: 'gamma' }),
      proc({ CommandLine: 'delta' }),
    ],
  },
  {
    name: "parentheses: '(a or b) and not c'",
    detection: `
a:
  CommandLine|contains: 'alpha'
b:
  CommandLine|contains: 'beta'
c:
  CommandLine|contains: 'gamma'
condition: (a or b) and not c`,
    match: [proc({ CommandLine: 'alpha' }), proc({ CommandLine: 'beta' })],
    miss: [
      proc({ CommandLine: 'alpha gamma' }),
      proc({ CommandLine: 'beta gamma' }),
      proc({ CommandLine: 'delta' }),
    ],
  },
  {
    name: 'a list of conditions means any of them',
    detection: `
a:
  CommandLine|contains: 'alpha'
b:
  CommandLine|contains: 'beta'
condition:
  - a and b
  - not a and not b`,
    match: [proc({ CommandLine: 'alpha beta' }), proc({ CommandLine: 'delta' })],
    miss: [proc({ CommandLine: 'alpha' }), proc({ CommandLine: 'beta' })],
  },

  // Field names.
  {
    name: 'EventData names with spaces are matched by the name without spaces',
    logsource: '{ product: windows, service: security }',
    detection: String.raw`
selection:
  EventID: 4688
  NewProcessName|endswith: '\whoami.exe'
  TokenElevationType: '%%1937'
  ProcessCommandLine|contains: 'whoami'
  MandatoryLabel: 'S-1-16-12288'
  SubjectUserName: alice
  AccountName: alice
condition: selection`,
    match: [
      windowsEvent({
        channel: 'Security',
        eventId: 4688,
        data: {
          NewProcessName: 'C:\\Windows\\System32\\whoami.exe',
          TokenElevationType: '%%1937',
          ProcessCommandLine: 'whoami /priv',
          MandatoryLabel: 'S-1-16-12288',
          SubjectUserName: 'alice',
          'Account Name': 'alice',
        },
      }),
    ],
    miss: [
      windowsEvent({
        channel: 'Security',
        eventId: 4688,
        data: {
          NewProcessName: 'C:\\Windows\\System32\\whoami.exe',
          TokenElevationType: '%%1937',
          ProcessCommandLine: 'whoami /priv',
          MandatoryLabel: 'S-1-16-12288',
          SubjectUserName: 'alice',
          'Account Name': 'bob',
        },
      }),
    ],
  },
  {
    name: 'a process_creation rule matches Security 4688 through Image→NewProcessName',
    detection: String.raw`
selection:
  Image|endswith: '\whoami.exe'
  ParentImage|endswith: '\cmd.exe'
condition: selection`,
    match: [
      proc({ Image: 'C:\\Windows\\System32\\whoami.exe', ParentImage: 'C:\\Windows\\System32\\cmd.exe' }),
      windowsEvent({
        channel: 'Security',
        eventId: 4688,
        data: {
          NewProcessName: 'C:\\Windows\\System32\\whoami.exe',
          ParentProcessName: 'C:\\Windows\\System32\\cmd.exe',
        },
      }),
    ],
    miss: [
      // The Security event carries no Image field: the Sysmon names do not apply there.
      windowsEvent({
        channel: 'Security',
        eventId: 4688,
        data: { Image: 'C:\\Windows\\System32\\whoami.exe', ParentImage: 'C:\\Windows\\System32\\cmd.exe' },
      }),
      // Right fields, wrong event id (a logon), and a Sysmon event that is not process creation.
      windowsEvent({
        channel: 'Security',
        eventId: 4624,
        data: {
          NewProcessName: 'C:\\Windows\\System32\\whoami.exe',
          ParentProcessName: 'C:\\Windows\\System32\\cmd.exe',
        },
      }),
      windowsEvent({
        eventId: 5,
        data: { Image: 'C:\\Windows\\System32\\whoami.exe', ParentImage: 'C:\\Windows\\System32\\cmd.exe' },
      }),
    ],
  },
  {
    name: 'System fields are named with underscores, as the specification says',
    logsource: '{ product: windows, service: sysmon }',
    detection: `
selection:
  Provider_Name: 'Microsoft-Windows-Sysmon'
  Computer|startswith: 'WS01'
  Security_UserID: 'S-1-5-18'
  Execution_ProcessID: 3120
  Channel: 'Microsoft-Windows-Sysmon/Operational'
condition: selection`,
    match: [windowsEvent({ eventId: 1, data: {} })],
    miss: [windowsEvent({ eventId: 1, computer: 'DC01.corp.example', data: {} })],
  },
  {
    name: 'UserData leaves are matched by their element name',
    logsource: '{ product: windows, service: system }',
    detection: `
selection:
  SubjectUserName: 'alice'
  ServiceName|contains: 'evil'
condition: selection`,
    match: [
      windowsEvent({
        channel: 'System',
        eventId: 1,
        userData: { LogFileCleared: { SubjectUserName: 'alice', Detail: { ServiceName: 'EvilSvc' } } },
      }),
    ],
    miss: [
      windowsEvent({
        channel: 'System',
        eventId: 1,
        userData: { LogFileCleared: { SubjectUserName: 'bob', Detail: { ServiceName: 'EvilSvc' } } },
      }),
    ],
  },
  {
    name: 'a multi-valued field matches when any of its values does',
    logsource: '{ product: windows, service: system }',
    detection: `
selection:
  Data|contains: 'mimikatz'
condition: selection`,
    match: [windowsEvent({ channel: 'System', eventId: 1, data: { Data: ['a', 'run mimikatz', 'c'] } })],
    miss: [windowsEvent({ channel: 'System', eventId: 1, data: { Data: ['a', 'b'] } })],
  },
  {
    name: 'field names in a rule match whatever their case in the log',
    detection: `
selection:
  commandline|contains: 'whoami'
condition: selection`,
    match: [proc({ CommandLine: 'whoami' })],
    miss: [proc({ CommandLine: 'hostname' })],
  },
];

function matches(ruleSet: ReturnType<typeof compileRules>, event: EvtxEvent): number[] {
  return ruleSet.match(evtxEventFields(event));
}

describe('each modifier and condition form on hand-written events', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const ruleSet = compileRules(ruleText(c), c.placeholders);
    expect(ruleSet.rules).toHaveLength(1);
    const events = [...c.match, ...c.miss];
    expect(events.map((e) => matches(ruleSet, e))).toEqual(
      events.map((_, i) => (i < c.match.length ? [0] : [])),
    );
  });

  it('gives the same answers with all the rules in one rule set, where the prefilter chooses among them', () => {
    const placeholders = Object.assign({}, ...cases.map((c) => c.placeholders ?? {}));
    const ruleSet = compileRules(cases.map(ruleText).join('---\n'), placeholders);
    expect(ruleSet.rules).toHaveLength(cases.length);
    const found = cases.flatMap((c, index) =>
      [...c.match, ...c.miss].map((e) => `${c.name}: ${matches(ruleSet, e).includes(index)}`),
    );
    const expected = cases.flatMap((c) =>
      [...c.match, ...c.miss].map((_, i) => `${c.name}: ${i < c.match.length}`),
    );
    expect(found).toEqual(expected);
  });

  it('sees only the channel and event ids of a rule log source', () => {
    const ruleSet = compileRules(ruleText(cases[0] as MatchCase));
    const event = (channel: string, eventId: number) =>
      windowsEvent({ channel, eventId, data: { Image: 'C:\\Windows\\System32\\whoami.exe' } });
    expect(
      [event(SYSMON, 1), event(SYSMON, 3), event('Application', 1)].map((e) => matches(ruleSet, e)),
    ).toEqual([[0], [], []]);
  });
});
