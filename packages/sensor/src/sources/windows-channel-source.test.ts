// The pieces of the Windows channel source that run anywhere: decoding the tool's output and the
// default command runner (tried with node itself, since the event log tool exists only on Windows).
import { describe, expect, it } from 'vitest';
import { decodeOutput, runCommand } from './windows-channel-source.ts';

describe('decodeOutput', () => {
  it.each([
    ['UTF-16LE with a byte order mark', Buffer.from('\ufeff<Events>é€</Events>', 'utf16le')],
    ['UTF-16LE without one', Buffer.from('<Events>é€</Events>', 'utf16le')],
    ['UTF-8', Buffer.from('<Events>é€</Events>', 'utf8')],
  ])('reads %s', (_, bytes) => {
    expect(decodeOutput(bytes)).toBe('<Events>é€</Events>');
  });
});

describe('runCommand', () => {
  const signal = new AbortController().signal;

  it('gives the exit code and the output as bytes', async () => {
    const result = await runCommand(
      process.execPath,
      ['-e', "process.stdout.write('out'); process.stderr.write('err'); process.exit(3)"],
      signal,
    );
    expect({
      ...result,
      stdout: Buffer.from(result.stdout).toString(),
      stderr: Buffer.from(result.stderr).toString(),
    }).toEqual({
      exitCode: 3,
      stdout: 'out',
      stderr: 'err',
    });
  });

  it('gives exit code -1 and the reason when the command cannot start', async () => {
    const result = await runCommand('palisade-no-such-tool', ['qe'], signal);
    expect(result.exitCode).toBe(-1);
    expect(Buffer.from(result.stderr).toString()).toContain('ENOENT');
  });
});
