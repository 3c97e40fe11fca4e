/** Opt-in Docker discovery as one feature, the same for every host: the containers found go to the monitor. */
import type { Logger } from '../log';
import type { ContainerSource } from '../monitor/ports';
import type { Disposable } from '../util/events';
import { DockerSource } from './dockerSource';

/** What takes containers (the monitor): it starts the source and empties its list when detached. */
export interface ContainerHost {
  attachContainers(source: ContainerSource): Disposable;
}

export interface DockerWatchOptions {
  logger: Logger;
  /** The docker CLI (default `docker`). */
  binary?: string;
  intervalMs?: number;
}

/** Lists containers every few seconds for the monitor until disposed. */
export function watchDocker(host: ContainerHost, options: DockerWatchOptions): Disposable {
  const source = new DockerSource({
    logger: options.logger,
    ...(options.binary ? { binary: options.binary } : {}),
    ...(options.intervalMs !== undefined ? { intervalMs: options.intervalMs } : {}),
  });
  return host.attachContainers(source);
}
