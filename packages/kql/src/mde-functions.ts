// Functions Defender's hunting offers besides Kusto's own, declared in KQL so the language service
// binds them. Data, not code: each has a parameter list, a body and, where Palisade cannot do what
// Defender does (it is offline), a warning the compiler attaches to queries that call it.

export interface MdeFunction {
  readonly name: string;
  readonly parameters: string;
  readonly body: string;
  /** Parameters whose argument is a column name rather than a value (`invoke FileProfile(SHA1)`). */
  readonly columnNameParameters?: readonly number[];
  readonly warning?: string;
}

export const mdeFunctions: readonly MdeFunction[] = [
  {
    name: 'FileProfile',
    parameters: '(T:(*), x:string="SHA1", y:long=1000)',
    body: `{ T | extend GlobalPrevalence=long(null), GlobalFirstSeen=datetime(null), GlobalLastSeen=datetime(null),
      Signer="", Issuer="", SignerHash="", IsCertificateValid=bool(null), IsRootSignerMicrosoft=bool(null),
      SignatureState="", IsExecutable=bool(null), ThreatName="", Publisher="", SoftwareName="",
      ProfileAvailability="" }`,
    columnNameParameters: [0],
    warning:
      'FileProfile() needs Microsoft’s file-reputation service, which Palisade has not: its columns are empty',
  },
];
