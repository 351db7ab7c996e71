export * from './isolation.js';
export * from './ledger-api.js';
export * from './process.js';
export * from './services.js';
export * from './tokens.js';
