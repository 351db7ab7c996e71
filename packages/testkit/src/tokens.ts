import { signDevToken } from '@crowncast/auth';
import { TEST_JWT_SECRET } from './isolation.js';

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
