export type { ListenAddress, OpencodeProcess, OpencodeProcessKind, ProcessScanner } from './types';
export { Discovery, createProcessScanner, DEFAULT_INTERVAL_MS } from './discovery';
export type {
  DiscoveredInstance,
  DiscoveryChange,
  DiscoveryClock,
  DiscoveryListener,
  DiscoveryOptions,
  DiscoveryResult,
  Disposable,
} from './discovery';
export { probeOpencode, DEFAULT_PROBE_TIMEOUT_MS } from './portProbe';
export type { ProbeFn, ProbeOptions, ProbeResult } from './portProbe';
export { classifyArgs, dataDirFromEnv, expectsPort, isOpencodeExecutable, urlForListener } from './classify';
export type { ArgvRole } from './classify';
export { LinuxProcessScanner } from './linuxScanner';
export type { LinuxScannerOptions } from './linuxScanner';
export { DarwinProcessScanner } from './darwinScanner';
export type { DarwinScannerOptions } from './darwinScanner';
export { WindowsProcessScanner } from './windowsScanner';
export type { WindowsScannerOptions } from './windowsScanner';
