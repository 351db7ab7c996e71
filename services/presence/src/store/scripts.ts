import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface Script {
  readonly name: string;
  readonly lua: string;
  readonly sha: string;
}

export function script(name: string, lua: string): Script {
  return { name, lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/** Loads scripts so EVALSHA finds them; called on every (re)connect to Redis. */
export async function loadScripts(redis: Redis, scripts: Script[]): Promise<void> {
  for (const s of scripts) await redis.script('LOAD', s.lua);
}

/**
 * EVALSHA (one round trip, no script body on the wire). Commands are written in call order on one
 * connection, so two notices of one edge are applied in the order they arrived. A NOSCRIPT (Redis
 * restarted or flushed) falls back to EVAL once.
 */
export async function run(redis: Redis, s: Script, args: (string | number)[]): Promise<unknown> {
  try {
    return await redis.evalsha(s.sha, 0, ...args);
  } catch (err) {
    if (!String((err as Error).message).includes('NOSCRIPT')) throw err;
    return redis.eval(s.lua, 0, ...args);
  }
}
