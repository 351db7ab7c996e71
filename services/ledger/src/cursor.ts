import { errors } from './domain/errors.js';

/** Opaque page cursors: base64url of a JSON array of the last row's sort key. */
export function encodeCursor(key: (string | number | boolean)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string, length: number): (string | number | boolean)[] {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(key) &&
      key.length === length &&
      key.every((k) => ['string', 'number', 'boolean'].includes(typeof k))
    ) {
      return key;
    }
  } catch {
    // fall through
  }
  throw errors.badCursor();
}
