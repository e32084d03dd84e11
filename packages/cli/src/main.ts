// Entry point of the palisade command: finds the command in the command table, parses its
// options, runs it and exits with its code.
import { runCapture } from './capture-command.ts';
import { commands, type DumpFormat } from './commands.ts';
import { type Handler, runCommandLine } from './dispatch.ts';
import { dumpEvtx } from './evtx-dump.ts';
import { runHunt } from './hunt-command.ts';
import { type Output, processOutput } from './output.ts';
import { runScan } from './scan-command.ts';
import { runSensorDoctor, runSensorRegister, runSensorRun, runSensorStatus } from './sensor-command.ts';
import { runUp } from './up-command.ts';

declare const PALISADE_VERSION: string;
const version = typeof PALISADE_VERSION === 'string' ? PALISADE_VERSION : 'development';

const handlers: Record<string, Handler> = {
  'evtx dump': (args, options, out) => dumpEvtx(args, options.format as DumpFormat, out),
  scan: (args, options, out) => runScan(args, options, out),
  capture: (args, options, out) => runCapture(args, options, out),
  up: (args, options, out) => runUp(args, options, out),
  hunt: (args, options, out) => runHunt(args, options, out),
  'sensor register': (_args, options, out) => runSensorRegister(options, out),
  'sensor run': (_args, options, out) => runSensorRun(options, out),
  'sensor status': (_args, options, out) => runSensorStatus(options, out),
  'sensor doctor': (_args, options, out) => runSensorDoctor(options, out),
};

/** Runs the command line `argv` (without node and script) and returns the exit code. */
export function run(argv: readonly string[], out: Output): Promise<number> {
  return runCommandLine({ commands, handlers, version }, argv, out);
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
