// Usage: node tools/build.mjs [OUTFILE]
// Bundles the palisade command into dist/palisade.mjs, or OUTFILE (tests bundle into a temporary
// folder), and the sensor's own command (only `palisade sensor …`, no instance code or native
// modules) into palisade-sensor.mjs beside it: one file each, Node 20+, source maps beside them.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const outfile = resolve(process.argv[2] ?? join(root, 'dist/palisade.mjs'));

// Native addons cannot be bundled. They stay external, imported by their path relative to the bundle,
// resolved from the workspace package that depends on them (npm may install one under it).
const nativeAddons = {
  name: 'native-addons',
  setup(b) {
    const owners = {
      '@duckdb/node-api': 'packages/store',
      'better-sqlite3': 'packages/store',
      '@node-rs/argon2': 'packages/server',
    };
    b.onResolve({ filter: /^(@duckdb\/node-api|better-sqlite3|@node-rs\/argon2)$/ }, (args) => {
      const resolved = createRequire(join(root, owners[args.path], 'package.json')).resolve(args.path);
      const path = relative(dirname(outfile), resolved).split(sep).join('/');
      return { path: path.startsWith('.') ? path : `./${path}`, external: true };
    });
  },
};

const common = {
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
  plugins: [nativeAddons],
  logLevel: 'warning',
};

await build({ ...common, entryPoints: [join(root, 'packages/cli/src/main.ts')], outfile });
await build({
  ...common,
  entryPoints: [join(root, 'packages/cli/src/sensor-main.ts')],
  outfile: join(dirname(outfile), 'palisade-sensor.mjs'),
});
