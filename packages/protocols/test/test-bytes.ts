// Helpers the decoder tests share: tab-separated tshark fixtures, hex literals and a minimal DER
// writer for hand-built messages.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Rows of a tab-separated fixture file, empty trailing columns kept. */
export function tsvRows(dir: string, name: string): string[][] {
  return readFileSync(join(dir, name), 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.split('\t'));
}

/** Bytes from hex text; whitespace is ignored. */
export function hex(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text.replaceAll(/\s/g, ''), 'hex'));
}

export type Part = Uint8Array | readonly number[];

/** A DER element: tag, definite length, content. */
export function tlv(tag: number, ...content: Part[]): Uint8Array {
  const body = Uint8Array.from(content.flatMap((c) => Array.from(c)));
  const n = body.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Uint8Array.from([tag, ...length, ...body]);
}
