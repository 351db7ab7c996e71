/** A refusal the client can act on: HTTP status plus a prefixed machine-readable code. */
export class PresenceError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: `PRESENCE_${string}`,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'PresenceError';
  }
}
