// Palisade's built-in Windows log-source pipeline, as pipeline YAML read by the same loader as
// users' pipeline files.

/** The default pipeline's YAML text. */
export const windowsPipelineYaml = `# Palisade's built-in Windows log-source pipeline: which channels a Sigma service reads, and which
# event ids (and other fields) a Sigma category means, with the field renames of each source.
name: windows
logsources:
  - name: process_creation-sysmon
    match: { product: windows, category: process_creation }
    conditions: { EventID: [1] }
    service: sysmon
  - name: process_creation-security
    match: { product: windows, category: process_creation }
    conditions: { EventID: [4688] }
    service: security
    fieldmappings: { Image: NewProcessName, ParentImage: ParentProcessName }
  - name: file_change-sysmon
    match: { product: windows, category: file_change }
    conditions: { EventID: [2] }
    service: sysmon
  - name: network_connection-sysmon
    match: { product: windows, category: network_connection }
    conditions: { EventID: [3] }
    service: sysmon
  - name: sysmon_status-sysmon
    match: { product: windows, category: sysmon_status }
    conditions: { EventID: [4, 16] }
    service: sysmon
  - name: process_termination-sysmon
    match: { product: windows, category: process_termination }
    conditions: { EventID: [5] }
    service: sysmon
  - name: driver_load-sysmon
    match: { product: windows, category: driver_load }
    conditions: { EventID: [6] }
    service: sysmon
  - name: image_load-sysmon
    match: { product: windows, category: image_load }
    conditions: { EventID: [7] }
    service: sysmon
  - name: create_remote_thread-sysmon
    match: { product: windows, category: create_remote_thread }
    conditions: { EventID: [8] }
    service: sysmon
  - name: raw_access_thread-sysmon
    match: { product: windows, category: raw_access_thread }
    conditions: { EventID: [9] }
    service: sysmon
  - name: process_access-sysmon
    match: { product: windows, category: process_access }
    conditions: { EventID: [10] }
    service: sysmon
  - name: file_event-sysmon
    match: { product: windows, category: file_event }
    conditions: { EventID: [11] }
    service: sysmon
  - name: registry_event-sysmon
    match: { product: windows, category: registry_event }
    conditions: { EventID: [12, 13, 14] }
    service: sysmon
  - name: registry_add-sysmon
    match: { product: windows, category: registry_add }
    conditions: { EventID: [12], EventType: ['CreateKey'] }
    service: sysmon
  - name: registry_delete-sysmon
    match: { product: windows, category: registry_delete }
    conditions: { EventID: [12], EventType: ['DeleteKey', 'DeleteValue'] }
    service: sysmon
  - name: registry_set-sysmon
    match: { product: windows, category: registry_set }
    conditions: { EventID: [13] }
    service: sysmon
  - name: registry_rename-sysmon
    match: { product: windows, category: registry_rename }
    conditions: { EventID: [14] }
    service: sysmon
  - name: create_stream_hash-sysmon
    match: { product: windows, category: create_stream_hash }
    conditions: { EventID: [15] }
    service: sysmon
  - name: pipe_created-sysmon
    match: { product: windows, category: pipe_created }
    conditions: { EventID: [17, 18] }
    service: sysmon
  - name: wmi_event-sysmon
    match: { product: windows, category: wmi_event }
    conditions: { EventID: [19, 20, 21] }
    service: sysmon
  - name: dns_query-sysmon
    match: { product: windows, category: dns_query }
    conditions: { EventID: [22] }
    service: sysmon
  - name: file_delete-sysmon
    match: { product: windows, category: file_delete }
    conditions: { EventID: [23] }
    service: sysmon
  - name: clipboard_change-sysmon
    match: { product: windows, category: clipboard_change }
    conditions: { EventID: [24] }
    service: sysmon
  - name: process_tampering-sysmon
    match: { product: windows, category: process_tampering }
    conditions: { EventID: [25] }
    service: sysmon
  - name: file_delete_detected-sysmon
    match: { product: windows, category: file_delete_detected }
    conditions: { EventID: [26] }
    service: sysmon
  - name: file_block_executable-sysmon
    match: { product: windows, category: file_block_executable }
    conditions: { EventID: [27] }
    service: sysmon
  - name: file_block_shredding-sysmon
    match: { product: windows, category: file_block_shredding }
    conditions: { EventID: [28] }
    service: sysmon
  - name: file_executable_detected-sysmon
    match: { product: windows, category: file_executable_detected }
    conditions: { EventID: [29] }
    service: sysmon
  - name: sysmon_error-sysmon
    match: { product: windows, category: sysmon_error }
    conditions: { EventID: [255] }
    service: sysmon
  - name: ps_module-powershell
    match: { product: windows, category: ps_module }
    conditions: { EventID: [4103] }
    service: powershell
  - name: ps_script-powershell
    match: { product: windows, category: ps_script }
    conditions: { EventID: [4104] }
    service: powershell
  - name: ps_classic_start-powershell-classic
    match: { product: windows, category: ps_classic_start }
    conditions: { EventID: [400] }
    service: powershell-classic
  - name: ps_classic_provider_start-powershell-classic
    match: { product: windows, category: ps_classic_provider_start }
    conditions: { EventID: [600] }
    service: powershell-classic
  - name: ps_classic_script-powershell-classic
    match: { product: windows, category: ps_classic_script }
    conditions: { EventID: [800] }
    service: powershell-classic
  - name: antivirus-windefend
    match: { category: antivirus }
    conditions: { EventID: [1006, 1007, 1008, 1009, 1010, 1011, 1012, 1017, 1018, 1019, 1115, 1116] }
    service: windefend
    fieldmappings: { Signature: ThreatName, Filename: Path }
  - name: application
    match: { product: windows, service: application }
    channels: ['Application']
  - name: security
    match: { product: windows, service: security }
    channels: ['Security']
  - name: system
    match: { product: windows, service: system }
    channels: ['System']
  - name: ntlm
    match: { product: windows, service: ntlm }
    channels: ['Microsoft-Windows-NTLM/Operational']
  - name: sysmon
    match: { product: windows, service: sysmon }
    channels: ['Microsoft-Windows-Sysmon/Operational']
  - name: powershell
    match: { product: windows, service: powershell }
    channels: ['Microsoft-Windows-PowerShell/Operational', 'PowerShellCore/Operational']
  - name: powershell-classic
    match: { product: windows, service: powershell-classic }
    channels: ['Windows PowerShell']
  - name: taskscheduler
    match: { product: windows, service: taskscheduler }
    channels: ['Microsoft-Windows-TaskScheduler/Operational']
  - name: wmi
    match: { product: windows, service: wmi }
    channels: ['Microsoft-Windows-WMI-Activity/Operational']
  - name: dhcp
    match: { product: windows, service: dhcp }
    channels: ['Microsoft-Windows-DHCP-Server/Operational']
  - name: printservice-admin
    match: { product: windows, service: printservice-admin }
    channels: ['Microsoft-Windows-PrintService/Admin']
  - name: printservice-operational
    match: { product: windows, service: printservice-operational }
    channels: ['Microsoft-Windows-PrintService/Operational']
  - name: smbclient-security
    match: { product: windows, service: smbclient-security }
    channels: ['Microsoft-Windows-SmbClient/Security']
  - name: smbclient-connectivity
    match: { product: windows, service: smbclient-connectivity }
    channels: ['Microsoft-Windows-SmbClient/Connectivity']
  - name: smbserver-connectivity
    match: { product: windows, service: smbserver-connectivity }
    channels: ['Microsoft-Windows-SMBServer/Connectivity']
  - name: terminalservices-localsessionmanager
    match: { product: windows, service: terminalservices-localsessionmanager }
    channels: ['Microsoft-Windows-TerminalServices-LocalSessionManager/Operational']
  - name: codeintegrity-operational
    match: { product: windows, service: codeintegrity-operational }
    channels: ['Microsoft-Windows-CodeIntegrity/Operational']
  - name: applocker
    match: { product: windows, service: applocker }
    channels: ['Microsoft-Windows-AppLocker/MSI and Script', 'Microsoft-Windows-AppLocker/EXE and DLL', 'Microsoft-Windows-AppLocker/Packaged app-Deployment', 'Microsoft-Windows-AppLocker/Packaged app-Execution']
  - name: msexchange-management
    match: { product: windows, service: msexchange-management }
    channels: ['MSExchange Management']
  - name: windefend
    match: { product: windows, service: windefend }
    channels: ['Microsoft-Windows-Windows Defender/Operational']
  - name: firewall-as
    match: { product: windows, service: firewall-as }
    channels: ['Microsoft-Windows-Windows Firewall With Advanced Security/Firewall']
  - name: bits-client
    match: { product: windows, service: bits-client }
    channels: ['Microsoft-Windows-Bits-Client/Operational']
  - name: security-mitigations
    match: { product: windows, service: security-mitigations }
    channels: ['Microsoft-Windows-Security-Mitigations/Kernel Mode', 'Microsoft-Windows-Security-Mitigations/User Mode']
  - name: diagnosis-scripted
    match: { product: windows, service: diagnosis-scripted }
    channels: ['Microsoft-Windows-Diagnosis-Scripted/Operational']
  - name: shell-core
    match: { product: windows, service: shell-core }
    channels: ['Microsoft-Windows-Shell-Core/Operational']
  - name: openssh
    match: { product: windows, service: openssh }
    channels: ['OpenSSH/Operational']
  - name: ldap
    match: { product: windows, service: ldap }
    channels: ['Microsoft-Windows-LDAP-Client/Debug']
  - name: bitlocker
    match: { product: windows, service: bitlocker }
    channels: ['Microsoft-Windows-BitLocker/BitLocker Management']
  - name: vhdmp
    match: { product: windows, service: vhdmp }
    channels: ['Microsoft-Windows-VHDMP/Operational']
  - name: appxdeployment-server
    match: { product: windows, service: appxdeployment-server }
    channels: ['Microsoft-Windows-AppXDeploymentServer/Operational']
  - name: lsa-server
    match: { product: windows, service: lsa-server }
    channels: ['Microsoft-Windows-LSA/Operational']
  - name: appxpackaging-om
    match: { product: windows, service: appxpackaging-om }
    channels: ['Microsoft-Windows-AppxPackaging/Operational']
  - name: dns-client
    match: { product: windows, service: dns-client }
    channels: ['Microsoft-Windows-DNS Client Events/Operational']
  - name: appmodel-runtime
    match: { product: windows, service: appmodel-runtime }
    channels: ['Microsoft-Windows-AppModel-Runtime/Admin']
  - name: capi2
    match: { product: windows, service: capi2 }
    channels: ['Microsoft-Windows-CAPI2/Operational']
  - name: certificateservicesclient-lifecycle-system
    match: { product: windows, service: certificateservicesclient-lifecycle-system }
    channels: ['Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational']
  - name: kernel-shimengine
    match: { product: windows, service: kernel-shimengine }
    channels: ['Microsoft-Windows-Kernel-ShimEngine/Operational', 'Microsoft-Windows-Kernel-ShimEngine/Diagnostic']
  - name: application-experience
    match: { product: windows, service: application-experience }
    channels: ['Microsoft-Windows-Application-Experience/Program-Telemetry', 'Microsoft-Windows-Application-Experience/Program-Compatibility-Assistant']
  - name: ntfs
    match: { product: windows, service: ntfs }
    channels: ['Microsoft-Windows-Ntfs/Operational']
  - name: hyper-v-worker
    match: { product: windows, service: hyper-v-worker }
    channels: ['Microsoft-Windows-Hyper-V-Worker']
  - name: kernel-event-tracing
    match: { product: windows, service: kernel-event-tracing }
    channels: ['Microsoft-Windows-Kernel-EventTracing']
  - name: sense
    match: { product: windows, service: sense }
    channels: ['Microsoft-Windows-SENSE/Operational']
  - name: servicebus-client
    match: { product: windows, service: servicebus-client }
    channels: ['Microsoft-ServiceBus-Client/Admin', 'Microsoft-ServiceBus-Client/Operational']
  - name: iis-configuration
    match: { product: windows, service: iis-configuration }
    channels: ['Microsoft-IIS-Configuration/Operational']
`;
