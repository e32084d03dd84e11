// The identity detectors Palisade runs, in external-id order. Registries are plain lists.
import { bruteForceDetector, ldapBruteForceDetector } from './brute-force-detector.ts';
import { dcsyncDetector } from './dcsync-detector.ts';
import type { IdentityDetector } from './detector.ts';
import { sensitiveGroupDetector } from './sensitive-group-detector.ts';

export const identityDetectors: readonly IdentityDetector[] = [
  ldapBruteForceDetector,
  dcsyncDetector,
  bruteForceDetector,
  sensitiveGroupDetector,
].sort((a, b) => a.meta.externalId - b.meta.externalId);
