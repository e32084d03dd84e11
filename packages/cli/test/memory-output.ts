// An Output that keeps what a command writes, for tests of the palisade command.
import type { Output } from '../src/index.ts';

/** Collects stdout text and stderr lines in memory. */
export function memoryOutput(): Output & { stdout: string; stderr: string[] } {
  return {
    stdout: '',
    stderr: [],
    closed: false,
    async write(text: string) {
      this.stdout += text;
    },
    error(line: string) {
      this.stderr.push(line);
    },
  };
}
