import { ServiceError } from '@crowncast/service';

/** A refusal the client can act on: HTTP status plus a PRESENCE_ machine-readable code. */
export class PresenceError extends ServiceError {
  declare readonly code: `PRESENCE_${string}`;
  constructor(statusCode: number, code: `PRESENCE_${string}`, message: string, details?: unknown) {
    super(statusCode, code, message, details);
    this.name = 'PresenceError';
  }
}
