import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, commonEnv, env, jwtEnv, loadConfig } from '../src/index.js';

const Schema = z.object({
  ...commonEnv,
  ...jwtEnv,
  PORT: env.port(3000),
  FLAG: env.bool(false),
  LIST: env.list(['a']),
});

describe('loadConfig', () => {
  it('parses, applies defaults and freezes', () => {
    const c = loadConfig(Schema, { PORT: '8080', FLAG: 'yes', LIST: 'x, y,,z', JWT_SECRET: 's'.repeat(32) });
    expect(c).toMatchObject({
      PORT: 8080,
      FLAG: true,
      LIST: ['x', 'y', 'z'],
      LOG_LEVEL: 'info',
      SUBJECT_PREFIX: '',
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('fails fast naming every bad variable', () => {
    let err: unknown;
    try {
      loadConfig(Schema, { PORT: '99999', LOG_LEVEL: 'loud', JWT_SECRET: 'short', SUBJECT_PREFIX: 'a.b.' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    for (const name of ['PORT', 'LOG_LEVEL', 'JWT_SECRET', 'SUBJECT_PREFIX']) expect(message).toContain(name);
  });
});
