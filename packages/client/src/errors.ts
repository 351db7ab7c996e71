/** Every error the SDK raises or emits carries a machine-readable code. */
export type ClientErrorCode =
  | 'QUEUE_FULL'
  | 'REQUEST_TIMEOUT'
  | 'CONNECTION_LOST'
  | 'CLIENT_CLOSED'
  | 'TOKEN_UNAVAILABLE'
  | 'BAD_SERVER_FRAME'
  | 'HTTP_ERROR'
  | 'NETWORK_ERROR'
  // Codes of the edge's `error` frames and close reasons, and the ledger's error codes, pass through.
  | (string & {});

export class CrowncastError extends Error {
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    /** HTTP status (REST) or close code (socket), when there is one. */
    readonly status?: number,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'CrowncastError';
  }
}
