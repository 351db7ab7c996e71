import { CLIENT_MESSAGE_TYPES } from '@crowncast/protocol';
import { pack } from 'msgpackr';

/** Seeded generators of hostile WebSocket message bodies (valid UTF-8 text or binary). */
export type Rand = () => number;

const pickOf =
  (rand: Rand) =>
  <T>(list: readonly T[]): T =>
    list[Math.floor(rand() * list.length)] as T;

function randomString(rand: Rand, max: number): string {
  const alphabet = 'abc{}[]":,\\/ 0123456789éñ👑\u200b\u202e\ufeff';
  const chars = [...alphabet];
  return Array.from(
    { length: Math.floor(rand() * max) },
    () => chars[Math.floor(rand() * chars.length)],
  ).join('');
}

const HOSTILE_IDS = [
  '',
  'a'.repeat(65),
  'club.x',
  'x>',
  '*',
  "' OR 1=1 --",
  '../x',
  '👑',
  ' ',
  'a\u0000b',
  'constructor',
  '__proto__',
];
const WRONG_VALUES: readonly unknown[] = [
  null,
  true,
  -1,
  1.5,
  Number.MAX_VALUE,
  '1',
  [],
  {},
  { $gt: 0 },
  2 ** 64,
];

/** One text frame that is not a valid request: garbage, wrong shapes, unknown types, bad data. */
export function randomTextFrame(rand: Rand, n: number): string {
  const pick = pickOf(rand);
  const type = pick(CLIENT_MESSAGE_TYPES as readonly string[]);
  const id = `z${n}`;
  switch (Math.floor(rand() * 12)) {
    case 0:
      return randomString(rand, 200) || '{';
    case 1:
      return JSON.stringify(pick(WRONG_VALUES));
    case 2:
      return pick(['null', '0', '""', '[]', 'true', '1e999', '{}']);
    case 3:
      return JSON.stringify({ id, data: {} });
    case 4:
      return JSON.stringify({ type: randomString(rand, 40) || 'x', id });
    case 5:
      return JSON.stringify({ type: pick(WRONG_VALUES), id });
    case 6:
      return JSON.stringify({ type, id, data: pick(WRONG_VALUES) });
    case 7:
      return JSON.stringify({
        type: pick(['club:join', 'game:join', 'club:leave', 'game:leave']),
        id,
        data: { clubId: pick(HOSTILE_IDS), gameId: pick(HOSTILE_IDS), lastSeq: pick(WRONG_VALUES) },
      });
    case 8:
      return `${'['.repeat(3000)}${']'.repeat(3000)}`;
    case 9:
      return `{"type":"ping","id":"${id}","__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}`;
    case 10:
      return JSON.stringify({
        type: 'auth:refresh',
        id,
        data: { token: pick(['', 'x', 'a.b.c', 'é'.repeat(100)]) },
      });
    default:
      return JSON.stringify({
        type,
        id: 'i'.repeat(100),
        data: { clubId: 'x', extra: randomString(rand, 50) },
      });
  }
}

/** One binary frame: random bytes, or MessagePack of a wrong shape. */
export function randomBinaryFrame(rand: Rand, n: number): Buffer {
  const pick = pickOf(rand);
  if (rand() < 0.5)
    return Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 300) }, () => Math.floor(rand() * 256)));
  return pack(
    pick<unknown>([
      null,
      42,
      'str',
      [1, 2, 3],
      { type: 7 },
      { type: 'nope', id: `b${n}` },
      { type: 'club:join', id: `b${n}`, data: { clubId: pick(HOSTILE_IDS) } },
      { type: 'gift:animation:played', id: `b${n}`, data: { giftTransactionId: 5 } },
    ]),
  );
}
