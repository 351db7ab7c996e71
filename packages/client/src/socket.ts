/**
 * The part of the WHATWG WebSocket API the client uses. Browsers, React Native and Node ≥ 22 have it
 * as `globalThis.WebSocket`; on Node 20 pass the `ws` package's class, which implements it too.
 */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

/**
 * A WebSocket class. Typed loosely on purpose: the DOM's, React Native's and ws's classes all
 * implement `WebSocketLike` at run time but differ in their declared event types.
 */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => object;

export const OPEN = 1;

/** The edge URL with the token and the resume points of the automatic rooms. */
export function connectUrl(base: string, token: string, resume: { user?: number; global?: number }): string {
  // Built by hand rather than with URL/URLSearchParams, which React Native only partly implements.
  const q = [`token=${encodeURIComponent(token)}`];
  if (resume.user !== undefined) q.push(`userLastSeq=${resume.user}`);
  if (resume.global !== undefined) q.push(`globalLastSeq=${resume.global}`);
  return `${base}${base.includes('?') ? '&' : '?'}${q.join('&')}`;
}
