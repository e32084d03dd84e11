// Usage: node tools/build.mjs
// Bundles the palisade command into dist/palisade.mjs (one file, Node 20+, source map beside it).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

await build({
  entryPoints: [join(root, 'packages/cli/src/main.ts')],
  outfile: join(root, 'dist/palisade.mjs'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  // Some dependencies are CommonJS and call require(); give the ESM bundle one.
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __palisadeRequire } from 'node:module';\nconst require = __palisadeRequire(import.meta.url);",
  },
  define: { PALISADE_VERSION: JSON.stringify(version ?? '0.0.0') },
  logLevel: 'warning',
});
