export * from './envelope.js';
export * from './events.js';
export * from './ids.js';
export * from './internal.js';
export * from './presence.js';
export * from './rest.js';
export * from './analytics.js';
