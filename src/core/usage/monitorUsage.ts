/**
 * Claude subscription usage as one feature, the same for every host (VS Code window, CLI): one
 * process per user polls the API, the others read its result; every change goes to the monitor.
 */
import type { UsageModel } from '../model/model';
import { createUsageService } from './service';
import type { UsageService, UsageServiceOptions } from './service';

/** Where the usage goes (the monitor). */
export interface UsageSink {
  setUsage(usage: UsageModel | undefined): void;
}

/** A started usage service wired to its sink; disposing it stops the service (the sink keeps its last value). */
export interface RunningUsage {
  readonly service: UsageService;
  dispose(): Promise<void>;
}

/** Starts the usage service and feeds `sink` now and on every change. Throws on a bad configuration. */
export function startUsage(sink: UsageSink, options: UsageServiceOptions): RunningUsage {
  const service = createUsageService(options);
  const subscription = service.onChange((usage) => sink.setUsage(usage));
  service.start();
  sink.setUsage(service.current());
  return {
    service,
    dispose: async () => {
      subscription.dispose();
      await service.dispose();
    },
  };
}
