// The schema package's network-rpc captures (real tools against a Samba DC and a stand-in RPC
// listener, see packages/schema/fixtures/network-rpc/README.md), scanned with some identity
// detectors, for the tests of the detectors built on those rows.
import { resolve } from 'node:path';
import {
  type Alert,
  compileRuleSet,
  type IdentityEngineConfig,
  identityDetectors,
  scanFiles,
} from '../src/index.ts';

const fixtures = resolve(import.meta.dirname, '../../schema/fixtures/network-rpc');

/** The alerts of the detectors with these external ids over these captures (file names). */
export async function scanRpcFixtures(
  files: readonly string[],
  externalIds: readonly number[],
  config: IdentityEngineConfig = {},
): Promise<Alert[]> {
  const { alerts } = await scanFiles(
    files.map((f) => resolve(fixtures, f)),
    compileRuleSet([], { name: 'none', entries: [] }),
    {
      identity: {
        detectors: identityDetectors.filter((d) => externalIds.includes(d.meta.externalId)),
        config,
      },
    },
  );
  return alerts;
}
