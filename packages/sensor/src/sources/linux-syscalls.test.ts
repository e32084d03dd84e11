// The syscall numbers checked against the audit project's own tables (`ausyscall ARCH --dump`,
// stored in the fixtures), not against the kernel headers they were typed from.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { syscallNumbers, syscalls } from './linux-syscalls.ts';

const fixtures = join(import.meta.dirname, '../../fixtures/linux-auditd');

describe.each(Object.keys(syscallNumbers) as (keyof typeof syscallNumbers)[])(
  '%s syscall numbers',
  (arch) => {
    it('agree with ausyscall', () => {
      const dump = new Map<number, string>();
      for (const line of readFileSync(join(fixtures, `ausyscall-${arch}.txt`), 'utf8')
        .trim()
        .split('\n')) {
        const [n, name] = line.split('\t');
        dump.set(Number(n), name as string);
      }
      for (const [n, name] of Object.entries(syscallNumbers[arch]))
        expect(dump.get(Number(n)), `${arch} ${n}`).toBe(name);
    });

    it('cover every call the rows are made from that the architecture has', () => {
      const names = new Set(Object.values(syscallNumbers[arch]));
      const dumped = new Set(
        readFileSync(join(fixtures, `ausyscall-${arch}.txt`), 'utf8')
          .trim()
          .split('\n')
          .map((l) => l.split('\t')[1]),
      );
      for (const name of Object.keys(syscalls)) {
        // i386 makes its socket calls through socketcall as well as directly
        if (dumped.has(name)) expect(names.has(name), `${arch} ${name}`).toBe(true);
      }
    });
  },
);
