// Entry point of the sensor's own bundle (dist/palisade-sensor.mjs): only the `palisade sensor …`
// commands, so a domain controller or endpoint loads none of the instance's code or native modules.
import { commands } from './commands.ts';
import { type Handler, runCommandLine } from './dispatch.ts';
import { processOutput } from './output.ts';
import { runSensorDoctor, runSensorRegister, runSensorRun, runSensorStatus } from './sensor-command.ts';

declare const PALISADE_VERSION: string;
const version = typeof PALISADE_VERSION === 'string' ? PALISADE_VERSION : 'development';

const handlers: Record<string, Handler> = {
  'sensor register': (_args, options, out) => runSensorRegister(options, out),
  'sensor run': (_args, options, out) => runSensorRun(options, out),
  'sensor status': (_args, options, out) => runSensorStatus(options, out),
  'sensor doctor': (_args, options, out) => runSensorDoctor(options, out),
};

const out = processOutput();
runCommandLine(
  { commands: commands.filter((c) => c.path[0] === 'sensor'), handlers, version },
  process.argv.slice(2),
  out,
).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    out.error(`palisade: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exitCode = 70;
  },
);
