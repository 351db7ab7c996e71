import { GenericContainer, type StartedTestContainer, Wait } from 'testcontainers';
import type { ServiceName } from './services.js';

/**
 * Starts the named services in containers and points the variables at them; worker processes
 * inherit the environment. Returns the teardown.
 */
export async function startContainers(names: ServiceName[]): Promise<() => Promise<void>> {
  const started: StartedTestContainer[] = [];
  for (const name of names) {
    if (name === 'PostgreSQL') {
      const c = await new GenericContainer('postgres:16-alpine')
        .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust', POSTGRES_DB: 'test' })
        .withExposedPorts(5432)
        .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
        .start();
      started.push(c);
      process.env.DATABASE_URL = `postgres://postgres@${c.getHost()}:${c.getMappedPort(5432)}/test`;
    } else if (name === 'NATS') {
      const c = await new GenericContainer('nats:2.10-alpine')
        .withCommand(['-js'])
        .withExposedPorts(4222)
        .start();
      started.push(c);
      process.env.NATS_URL = `nats://${c.getHost()}:${c.getMappedPort(4222)}`;
    } else {
      const c = await new GenericContainer('redis:7-alpine').withExposedPorts(6379).start();
      started.push(c);
      process.env.REDIS_URL = `redis://${c.getHost()}:${c.getMappedPort(6379)}`;
    }
  }
  return async () => {
    await Promise.all(started.map((c) => c.stop()));
  };
}
