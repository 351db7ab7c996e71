import { unreachableServices } from './services.js';

/**
 * vitest globalSetup. Integration tests use DATABASE_URL, NATS_URL and REDIS_URL, defaulting to the
 * local services. A service that is not reachable, whose variable was not set explicitly, is started
 * with testcontainers when a Docker engine is present; otherwise the run fails naming it (tests never
 * skip themselves).
 */
export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  const down = await unreachableServices();
  if (down.length === 0) return undefined;
  const startable = down.filter((s) => process.env[s.env] === undefined);
  if (startable.length === down.length && (await dockerEngineAvailable())) {
    const { startContainers } = await import('./containers.js');
    return startContainers(startable.map((s) => s.name));
  }
  throw new Error(
    `Crowncast tests need real services and these are not reachable: ${down.map((d) => d.describe).join('; ')}. ` +
      'Start them (README "Quick start"), point the variables at running ones, or run where a Docker engine is available.',
  );
}

async function dockerEngineAvailable(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}
