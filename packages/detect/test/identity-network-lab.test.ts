// The recorded lab run's packet capture (../shared/corpus/testbed-samples/testbed-default.pcap)
// scanned with the identity detectors in test mode: the attacks that only packets show — LDAP
// reconnaissance, Kerberoasting, AS-REP roasting, DCSync — and the password spray raise their
// alerts inside their windows in attacks/markers.txt, naming the attacker 10.99.0.20, and
// nothing fires in the setup window. The expectations are in lab-expectations.ts.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'vitest';
import { expectLabAlerts, labScenarios, readLabRun } from './lab-expectations.ts';

const lab = resolve(import.meta.dirname, '../../../../shared/corpus/testbed-samples');
const pcap = join(lab, 'testbed-default.pcap');
const missing = existsSync(pcap) ? undefined : `lab capture not found at ${pcap}`;
if (missing) {
  if (process.env.CI) throw new Error(`network lab test cannot run in CI: ${missing}`);
  console.log(`skipping network lab test: ${missing}`);
}

const recorded = () => readLabRun(lab, 'default', 'testbed-default.pcap');

describe.skipIf(missing !== undefined)('identity detectors on the lab capture', () => {
  it('detects each attack inside its marker window, naming the attacker and the accounts', async () => {
    await expectLabAlerts(recorded(), labScenarios.capture);
  });

  it('finds the SAM-R enumeration at the Medium level, and a honeytoken named in it', async () => {
    await expectLabAlerts(recorded(), labScenarios.samrMedium);
  });
});
