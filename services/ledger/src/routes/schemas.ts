import { ErrorBody } from '@crowncast/protocol';
import { z } from 'zod';

/** Every route answers errors with the same envelope. */
export const errorResponses = { '4xx': ErrorBody, '5xx': ErrorBody } as const;
export const bearer = [{ bearerAuth: [] }];
export const adminAuth = [{ adminToken: [] }];
export const IdempotencyHeaders = z.object({ 'idempotency-key': z.string().optional() }).loose();
