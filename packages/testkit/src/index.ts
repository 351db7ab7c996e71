import { signDevToken } from '@crowncast/auth';
import { TEST_JWT_SECRET } from './isolation.js';

export * from './isolation.js';
export * from './process.js';
export * from './services.js';

/** A valid token for a user, signed with the test secret. */
export function tokenFor(
  userId: string,
  opts: { expiresInSec?: number; secret?: string } = {},
): Promise<string> {
  return signDevToken({
    secret: opts.secret ?? TEST_JWT_SECRET,
    sub: userId,
    expiresInSec: opts.expiresInSec ?? 3600,
  });
}
