// The one way the CLI writes to stdout and stderr: with backpressure on stdout, and a closed
// pipe (`palisade … | head`) ending output quietly instead of failing.
/** Where command output goes; tests pass their own. */
export interface Output {
  write(text: string): Promise<void>;
  error(line: string): void;
  /** True once the reader of stdout has gone away. */
  readonly closed: boolean;
}

/** Output on the process's stdout and stderr. */
export function processOutput(): Output {
  let closed = false;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') closed = true;
    else throw e;
  });
  return {
    async write(text: string) {
      if (closed || text === '') return;
      if (process.stdout.write(text)) return;
      // Wait for the pipe to drain, or for it to close (the error handler above marks that).
      await new Promise<void>((resolve) => {
        const done = () => {
          process.stdout.off('drain', done);
          process.stdout.off('close', done);
          process.stdout.off('error', done);
          resolve();
        };
        process.stdout.on('drain', done);
        process.stdout.on('close', done);
        process.stdout.on('error', done);
      });
    },
    error(line: string) {
      process.stderr.write(`${line}\n`);
    },
    get closed() {
      return closed;
    },
  };
}
