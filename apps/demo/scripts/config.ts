import { z } from 'zod';

/**
 * Where the demo finds the stack. Defaults match `pnpm start` (scripts/start-stack.ts). Read once
 * from the environment of the dev server, never shipped to the browser.
 */
const Env = z.object({
  LEDGER_URL: z.url().default('http://127.0.0.1:3000'),
  EDGE_URL: z.url().default('http://127.0.0.1:3001'),
  PRESENCE_URL: z.url().default('http://127.0.0.1:3002'),
  JWT_SECRET: z.string().min(32).default('crowncast-local-dev-secret-change-me-please'),
  DEMO_HOST: z.string().default('127.0.0.1'),
  DEMO_PORT: z.coerce.number().int().min(0).max(65535).default(5173),
});
export type DemoConfig = z.infer<typeof Env>;

export function demoConfig(env: NodeJS.ProcessEnv = process.env): DemoConfig {
  const r = Env.safeParse(env);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`demo configuration: ${issues}`);
  }
  return Object.freeze(r.data);
}
