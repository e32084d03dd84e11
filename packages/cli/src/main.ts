// Entry point of the palisade command: finds the command in the command table, parses its
// options, runs it and exits with its code.
import { parseArgs } from 'node:util';
import { runCapture } from './capture-command.ts';
import { type CommandSpec, commands, type DumpFormat, ExitCode, type OptionValues } from './commands.ts';
import { dumpEvtx } from './evtx-dump.ts';
import { type Output, processOutput } from './output.ts';
import { runScan } from './scan-command.ts';
import { runSensorDoctor, runSensorRegister, runSensorRun, runSensorStatus } from './sensor-command.ts';
import { runUp } from './up-command.ts';

declare const PALISADE_VERSION: string;
const version = typeof PALISADE_VERSION === 'string' ? PALISADE_VERSION : 'development';

type Handler = (args: readonly string[], options: OptionValues, out: Output) => Promise<number>;

const handlers: Record<string, Handler> = {
  'evtx dump': (args, options, out) => dumpEvtx(args, options.format as DumpFormat, out),
  scan: (args, options, out) => runScan(args, options, out),
  capture: (args, options, out) => runCapture(args, options, out),
  up: (args, options, out) => runUp(args, options, out),
  'sensor register': (_args, options, out) => runSensorRegister(options, out),
  'sensor run': (_args, options, out) => runSensorRun(options, out),
  'sensor status': (_args, options, out) => runSensorStatus(options, out),
  'sensor doctor': (_args, options, out) => runSensorDoctor(options, out),
};

/** Runs the command line `argv` (without node and script) and returns the exit code. */
export async function run(argv: readonly string[], out: Output): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    await out.write(generalHelp());
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

function generalHelp(): string {
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

// Run only when this module is the program, not when a test imports it.
if (process.argv[1] && /palisade(\.mjs)?$|main\.ts$/.test(process.argv[1])) {
  const out = processOutput();
  run(process.argv.slice(2), out).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      out.error(`palisade: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      process.exitCode = 70;
    },
  );
}
