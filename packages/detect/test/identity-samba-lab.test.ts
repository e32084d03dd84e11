// The recorded lab run (../shared/corpus/testbed-samples/): Samba AD's own audit logs scanned
// with the identity detectors in test mode. Each attack the audit logs can show must be
// detected inside its window in attacks/markers.txt, naming the attacker 10.99.0.20 and the
// accounts; the setup window raises only the sensitive-group addition it contains. The
// expectations are in lab-expectations.ts.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectLabAlerts, labScenarios, readLabRun } from './lab-expectations.ts';

const lab = resolve(import.meta.dirname, '../../../../shared/corpus/testbed-samples');
const missing = existsSync(join(lab, 'audit')) ? undefined : `lab recording not found at ${lab}`;
if (missing) {
  if (process.env.CI) throw new Error(`Samba lab test cannot run in CI: ${missing}`);
  console.log(`skipping Samba lab test: ${missing}`);
}

const recorded = () => readLabRun(lab, 'default', 'testbed-default.pcap');

describe.skipIf(missing !== undefined)('Samba lab audit logs', () => {
  it('detects the password spray, AS-REP roasting and the sensitive-group addition, each where it happened', async () => {
    const run = recorded();
    // The recorded provision's domain SID: the tables' DOMAIN_SID (Administrator is its -500).
    expect(run.domainSid).toBe('S-1-5-21-233618269-2596914436-3104560765');
    await expectLabAlerts(run, labScenarios.audit);
  });

  it('detects the password reset of an account marked as a honeytoken, and its use in the spray', async () => {
    await expectLabAlerts(recorded(), labScenarios.auditHoneytoken);
  });

  it('raises nothing at the default High level, where learning periods and thresholds hold back a lab this small', async () => {
    await expectLabAlerts(recorded(), labScenarios.auditDefault);
  });
});
