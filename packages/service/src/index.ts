export { allowOrigins } from './cors.js';
export { errorHandler, ServiceError } from './errors.js';
export { exposeMetrics } from './metrics.js';
export { redisPlugin } from './redis.js';
export { run, type ServeOptions, serve } from './serve.js';
