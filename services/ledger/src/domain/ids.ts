import { randomBytes } from 'node:crypto';

/** Sortable-enough, unguessable ids: a prefix, the time in base36 and 10 random bytes. */
export function newId(prefix: 'gtx' | 'ntf' | 'grt' | 'evt' | 'rwd'): string {
  return `${prefix}_${Date.now().toString(36)}${randomBytes(10).toString('hex')}`;
}
