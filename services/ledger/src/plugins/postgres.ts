import fp from 'fastify-plugin';
import postgres, { type Sql } from 'postgres';

declare module 'fastify' {
  interface FastifyInstance {
    sql: Sql;
  }
}

/** int8 as JS numbers: crowns stay far below 2^53. */
export function createSql(url: string, schema: string, max: number): Sql {
  return postgres(url, {
    max,
    onnotice: () => {},
    connection: { search_path: schema, application_name: 'crowncast-ledger' },
    types: {
      bigint: { to: 20, from: [20], parse: (x: string) => Number(x), serialize: (x: number) => String(x) },
    },
  });
}

export default fp<{ url: string; schema: string; max: number; timeoutSec: number }>(
  async (app, opts) => {
    const sql = createSql(opts.url, opts.schema, opts.max);
    app.decorate('sql', sql);
    app.addHook('onClose', async () => {
      await sql.end({ timeout: opts.timeoutSec });
    });
  },
  { name: 'postgres' },
);
