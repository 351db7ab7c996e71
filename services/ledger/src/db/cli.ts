import { loadConfig } from '@crowncast/config';
import { z } from 'zod';
import { LedgerEnv } from '../config.js';
import { createSql } from '../plugins/postgres.js';
import { migrate } from './migrate.js';
import { seed } from './seed.js';

/** `migrate` applies pending migrations; `seed` also loads the demo world (idempotent). */
async function main() {
  const command = process.argv[2];
  if (command !== 'migrate' && command !== 'seed') {
    console.error('usage: cli.ts migrate|seed');
    process.exit(2);
  }
  const config = loadConfig(
    LedgerEnv.pick({ DATABASE_URL: true, DATABASE_SCHEMA: true }).extend({ _: z.string().optional() }),
  );
  const sql = createSql(config.DATABASE_URL, config.DATABASE_SCHEMA, 2);
  try {
    const applied = await migrate(sql, config.DATABASE_SCHEMA);
    console.log(applied.length ? `applied ${applied.join(', ')}` : 'schema is up to date');
    if (command === 'seed') {
      await seed(sql, `crowncast_outbox_${config.DATABASE_SCHEMA}`);
      console.log('demo seed loaded');
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
