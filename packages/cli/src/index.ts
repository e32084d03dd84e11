// Public surface of @palisade/cli for tests and embedding: run a command line with an output.

export { commands, ExitCode } from './commands.ts';
export { run } from './main.ts';
export type { Output } from './output.ts';
