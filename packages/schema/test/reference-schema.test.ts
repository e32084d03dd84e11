// The schema data matches the Defender reference (../shared/reference/defender-reference.md §3)
// exactly: every bold table there, every column in order, every type (`boolean` read as `bool`).
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defenderTables } from '../src/index.ts';

const reference = resolve(import.meta.dirname, '../../../../shared/reference/defender-reference.md');
const missing = existsSync(reference) ? undefined : `reference not found at ${reference}`;
if (missing) console.log(`skipping schema reference test: ${missing}`);

// Reads §3's tables: a line `**Name** (description)` followed by a fenced block of
// `Column [*markers] type [comment]` lines.
function referenceTables(text: string): Map<string, [string, string][]> {
  const section = text.slice(text.indexOf('## 3. Advanced hunting schema'), text.indexOf('## 4. '));
  const out = new Map<string, [string, string][]>();
  for (const m of section.matchAll(/^\*\*(\w+)\*\*[^\n]*\n```\n([\s\S]*?)\n```/gm)) {
    const columns = (m[2] as string).split('\n').map((line): [string, string] => {
      const parts = line
        .trim()
        .split(/\s+/)
        .filter((p) => !/^\*+$/.test(p));
      const type = parts[1] === 'boolean' ? 'bool' : (parts[1] as string);
      return [parts[0] as string, type];
    });
    out.set(m[1] as string, columns);
  }
  return out;
}

describe.skipIf(missing !== undefined)('schema against the Defender reference', () => {
  const expected = missing ? new Map() : referenceTables(readFileSync(reference, 'utf8'));

  it('has exactly the reference tables', () => {
    expect(expected.size).toBeGreaterThan(20);
    expect(Object.keys(defenderTables).sort()).toEqual([...expected.keys()].sort());
  });

  it.each([...expected.keys()])('%s has the reference columns and types, in order', (name) => {
    const table = defenderTables[name as keyof typeof defenderTables];
    expect(table.columns.map((c) => [c.name, c.type])).toEqual(expected.get(name));
  });
});
