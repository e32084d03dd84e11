// Test configuration for every workspace package: unit tests beside the code, golden and
// conformance tests under each package's test/ folder.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'threads',
    reporters: ['default', './tools/summary-reporter.ts'],
  },
});
