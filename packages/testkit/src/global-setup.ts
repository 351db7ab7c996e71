import { assertServicesUp } from './services.js';

/** vitest globalSetup: every run starts by checking the real services are there. */
export default async function setup(): Promise<void> {
  await assertServicesUp();
}
