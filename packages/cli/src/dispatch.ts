// The palisade command line, given a command table and its handlers: finds the command, parses
// its options against the table, prints help, runs the handler and returns its exit code. The full
// command and the sensor's own bundle share it with different tables.
import { parseArgs } from 'node:util';
import { type CommandSpec, ExitCode, type OptionValues } from './commands.ts';
import type { Output } from './output.ts';

export type Handler = (args: readonly string[], options: OptionValues, out: Output) => Promise<number>;

/** A command table, a handler per command (by its words joined with a space), and the version. */
export interface Program {
  readonly commands: readonly CommandSpec[];
  readonly handlers: Readonly<Record<string, Handler>>;
  readonly version: string;
}

/** Runs the command line `argv` (without node and script) and returns the exit code. */
export async function runCommandLine(
  program: Program,
  argv: readonly string[],
  out: Output,
): Promise<number> {
  const { commands, handlers, version } = program;
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    await out.write(generalHelp(program));
    return argv.length === 0 ? ExitCode.usage : ExitCode.ok;
  }
  if (argv[0] === '--version' || argv[0] === '-V') {
    await out.write(`palisade ${version}\n`);
    return ExitCode.ok;
  }
  const spec = commands.find((c) => c.path.every((word, i) => argv[i] === word));
  if (!spec) {
    out.error(
      `palisade: unknown command '${argv.filter((a) => !a.startsWith('-')).join(' ')}'; see 'palisade --help'`,
    );
    return ExitCode.usage;
  }
  const rest = argv.slice(spec.path.length);
  if (rest.includes('--help') || rest.includes('-h')) {
    await out.write(commandHelp(spec));
    return ExitCode.ok;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...rest],
      allowPositionals: true,
      strict: true,
      options: Object.fromEntries(
        spec.options.map((o) => [
          o.name,
          {
            type: o.type,
            ...(o.short ? { short: o.short } : {}),
            ...(o.multiple ? { multiple: true } : {}),
            ...(o.default !== undefined ? { default: o.default } : {}),
          },
        ]),
      ),
    });
  } catch (e) {
    out.error(
      `palisade ${spec.path.join(' ')}: ${e instanceof Error ? e.message : String(e)}\nusage: ${spec.usage}`,
    );
    return ExitCode.usage;
  }
  for (const option of spec.options) {
    const value = parsed.values[option.name];
    if (option.values && typeof value === 'string' && !option.values.includes(value)) {
      out.error(
        `palisade ${spec.path.join(' ')}: --${option.name} must be one of ${option.values.join(', ')}, not '${value}'`,
      );
      return ExitCode.usage;
    }
  }
  if (parsed.positionals.length < spec.minArgs) {
    out.error(`palisade ${spec.path.join(' ')}: missing arguments\nusage: ${spec.usage}`);
    return ExitCode.usage;
  }
  const handler = handlers[spec.path.join(' ')];
  if (!handler) throw new Error(`no handler for command ${spec.path.join(' ')}`);
  return handler(parsed.positionals, parsed.values as OptionValues, out);
}

function generalHelp({ commands, version }: Program): string {
  const width = Math.max(...commands.map((c) => c.path.join(' ').length));
  const lines = commands.map((c) => `  ${c.path.join(' ').padEnd(width)}  ${c.summary}`);
  return `palisade ${version} — self-hosted XDR for identities and endpoints\n\nusage: palisade COMMAND [ARGS…]\n\ncommands:\n${lines.join('\n')}\n\nRun 'palisade COMMAND --help' for a command's options.\n`;
}

function commandHelp(spec: CommandSpec): string {
  const options = spec.options.map((o) => {
    const flag = `${o.short ? `-${o.short}, ` : ''}--${o.name}${o.type === 'string' ? ' VALUE' : ''}`;
    const extra = o.default !== undefined ? ` (default: ${o.default})` : '';
    return `  ${flag}\n      ${o.help}${extra}`;
  });
  return `usage: ${spec.usage}\n\n${spec.summary}\n\noptions:\n${options.join('\n')}\n\n${spec.details}\n`;
}
