// Checks the parser against libevtx's evtxexport, an independent implementation: for every
// corpus file the record count, and for every record the event id, creation time, channel,
// computer and every EventData/UserData name and value, then the whole XML text of the file.
// Accepted differences, each with its reason, are in ./evtxexport-differences.md and are
// applied by the `normalise…` functions below.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type EvtxEvent, parseEvtx, type UserDataValue } from '../src/index.ts';
import { corpusFiles, corpusMissing, evtxexportMissing } from './corpus.ts';
import { parseXmlDocuments, type XmlElement } from './xml-lite.ts';

const missing = corpusMissing() ?? evtxexportMissing();
if (missing) {
  if (process.env.CI) throw new Error(`conformance test cannot run in CI: ${missing}`);
  console.log(`skipping evtxexport conformance: ${missing}`);
}

/** The fields compared, as flat "key=value" lines, so a failure shows exactly what differs. */
interface Comparable {
  eventId: string;
  timeCreated: string;
  channel: string;
  computer: string;
  data: string[];
}

// Difference 1: evtxexport prints times with nine fractional digits, Windows and Palisade with
// seven (the 100 ns resolution of FILETIME); the instants are the same.
function normaliseTime(t: string): string {
  return t.replace(/\.(\d{7})00Z$/, '.$1Z');
}

// Difference 2: evtxexport zero-pads hex values to the type's width (0x00000000000003e7),
// Windows and Palisade print them unpadded (0x3e7), as Sigma rules expect.
function normaliseValue(v: string): string {
  if (/^0x[0-9a-fA-F]+$/.test(v)) return `0x${BigInt(v).toString(16)}`;
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/.test(v) ? normaliseTime(v) : v;
}

// The whole-XML comparison applies both differences to both texts: an element or attribute
// whose entire value is a hex number, and a time with nine fractional digits.
function normaliseXml(xml: string): string {
  return xml
    .replace(/>0x0*([0-9a-fA-F]+)</g, '>0x$1<')
    .replace(/="0x0*([0-9a-fA-F]+)"/g, '="0x$1"')
    .replace(/(T\d\d:\d\d:\d\d\.\d{7})00Z/g, '$1Z');
}

function fromEvtxexport(event: XmlElement): Comparable {
  const system = event.children.find((c) => c.name === 'System');
  const field = (name: string) => system?.children.find((c) => c.name === name);
  const data: string[] = [];
  for (const section of event.children) {
    if (section.name === 'EventData') {
      for (const item of section.children) {
        const key = item.attributes.Name ?? item.name;
        data.push(`${key}=${normaliseValue(item.text)}`);
      }
    } else if (section.name === 'UserData') {
      flattenXml(section.children, '', data);
    }
  }
  return {
    eventId: field('EventID')?.text ?? '',
    timeCreated: normaliseTime(field('TimeCreated')?.attributes.SystemTime ?? ''),
    channel: field('Channel')?.text ?? '',
    computer: field('Computer')?.text ?? '',
    data: data.sort(),
  };
}

function flattenXml(elements: XmlElement[], prefix: string, out: string[]): void {
  for (const e of elements) {
    const path = `${prefix}${e.name}`;
    for (const [name, value] of Object.entries(e.attributes)) {
      if (name !== 'xmlns' && !name.startsWith('xmlns:'))
        out.push(`${path}/@${name}=${normaliseValue(value)}`);
    }
    if (e.children.length > 0) flattenXml(e.children, `${path}/`, out);
    else out.push(`${path}=${normaliseValue(e.text)}`);
  }
}

function fromPalisade(event: EvtxEvent): Comparable {
  const data: string[] = [];
  for (const [key, value] of Object.entries(event.eventData ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) data.push(`${key}=${normaliseValue(v)}`);
  }
  if (event.userData) flattenUserData(event.userData, '', data);
  return {
    eventId: String(event.system.eventId),
    timeCreated: event.system.timeCreated ?? '',
    channel: event.system.channel,
    computer: event.system.computer,
    data: data.sort(),
  };
}

function flattenUserData(value: UserDataValue, path: string, out: string[]): void {
  if (typeof value === 'string') {
    out.push(`${path}=${normaliseValue(value)}`);
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) flattenUserData(item, path, out);
    return;
  }
  let hasChildren = false;
  for (const [key, child] of Object.entries(value)) {
    if (key === '#attributes') {
      for (const [name, v] of Object.entries(child as Record<string, string>)) {
        if (name !== 'xmlns' && !name.startsWith('xmlns:')) out.push(`${path}/@${name}=${normaliseValue(v)}`);
      }
    } else if (key === '#text') {
      out.push(`${path}=${normaliseValue(child as string)}`);
    } else {
      hasChildren = true;
      flattenUserData(child, path === '' ? key : `${path}/${key}`, out);
    }
  }
  if (!hasChildren && !('#text' in value) && path !== '') out.push(`${path}=`);
}

describe.skipIf(missing !== undefined)('evtxexport conformance', () => {
  const files = missing ? [] : corpusFiles();

  it('covers both corpora', () => {
    expect(files.length).toBeGreaterThan(400);
  });

  let records = 0;
  let compared = 0;
  it.each(files)('%s', (_name, path) => {
    const run = spawnSync('evtxexport', ['-f', 'xml', path], {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    expect(run.error).toBeUndefined();
    const theirs = parseXmlDocuments(run.stdout).filter((e) => e.name === 'Event');
    const { events } = parseEvtx(readFileSync(path), { xml: true });
    const ours = events.filter((e) => !e.recovered);
    expect(ours.length).toBe(theirs.length);
    records += ours.length;
    for (let i = 0; i < ours.length; i++) {
      expect(fromPalisade(ours[i] as EvtxEvent), `record #${i + 1} (id ${ours[i]?.recordId})`).toEqual(
        fromEvtxexport(theirs[i] as XmlElement),
      );
      compared++;
    }
    // evtxexport prints its name and version, a blank line, then each event and a blank line.
    const theirXml = run.stdout.split('\n').slice(2).join('\n');
    const ourXml = ours.map((e) => `${e.xml}\n\n`).join('');
    expect(normaliseXml(ourXml)).toBe(normaliseXml(theirXml));
  });

  it('reports what it compared', () => {
    console.log(
      `evtxexport conformance: ${files.length} files, ${records} records, ${compared} compared field by field`,
    );
    expect(compared).toBe(records);
  });
});
