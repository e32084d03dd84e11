// `palisade up` as a child process for the crash test: the instance in the data directory of argv[2]
// on 127.0.0.1:argv[3] (0: any port), identity detectors in test mode, logs discarded. Prints one
// JSON line { port, accessKey } once it listens; SIGTERM closes it, SIGKILL is the point.
import { createLogger } from '../src/log.ts';
import { startInstance } from '../src/up.ts';

const [dataDir = '', port = '0'] = process.argv.slice(2);
const running = await startInstance({
  dataDir,
  domain: 'crash.lab.test',
  adminPassword: 'Quartz-Lantern-Orbit-2291',
  duckDbMemoryLimit: '256MB',
  listen: { host: '127.0.0.1', port: Number(port) },
  identityConfig: { testMode: true },
  log: createLogger({ write: () => undefined }),
});
process.stdout.write(`${JSON.stringify({ port: running.port, accessKey: running.created?.accessKey })}\n`);
process.once('SIGTERM', () => {
  running.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
