export {
  type Animation,
  AnimationQueue,
  type AnimationQueueOptions,
  type Playback,
} from './animation-queue.js';
export { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
export { CrowncastClient, connect } from './client.js';
export { type Clock, systemClock } from './clock.js';
export { type ClientErrorCode, CrowncastError } from './errors.js';
export type { ConnectOptions } from './options.js';
export { type Quality, qualityOf } from './quality.js';
export { LedgerApi, type LedgerApiOptions, type SendGiftAnswer, type SendGiftInput } from './rest.js';
export type { WebSocketConstructor, WebSocketLike } from './socket.js';
export { type ClientEvents, type JoinResult, type ResyncInfo, type RoomEventFrame, State } from './types.js';
