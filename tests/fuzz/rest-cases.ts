import { hostileTokens } from './jwt.js';

/** One hostile HTTP request and the class it belongs to. */
export interface RestCase {
  cls: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  note: string;
}

/** The fixture every case is built against (made through the admin API before fuzzing). */
export interface FuzzWorld {
  alice: string; // member of clubA, player of game; holds crowns
  bob: string; // member of clubB only; holds crowns
  aliceToken: string;
  bobToken: string;
  audience: string;
  adminToken: string;
  clubA: string;
  clubB: string;
  game: string;
  giftId: string;
  /** A key alice already used for a committed gift in clubA with `reusedBody`. */
  reusedKey: string;
  reusedBody: string;
}

/** A small seeded PRNG (mulberry32), so a failing case is reproduced by its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Pick = <T>(list: readonly T[]) => T;

const SQL = [
  "' OR 1=1 --",
  "'; DROP TABLE accounts; --",
  '" OR ""="',
  '1; UPDATE accounts SET balance = 1000000 --',
  "x' UNION SELECT id, balance FROM accounts --",
  '$$; SELECT pg_sleep(5); $$',
  '%27%20OR%201%3D1',
  '\\x00\\x27',
];
const UNICODE = [
  '👑👑👑',
  'ﬀ\u202e\u200b',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff\ud800',
  'é'.normalize('NFD'),
  '𝕮𝖗𝖔𝖜𝖓',
  'نص عربي',
  '\uFEFF',
  '\u2028\u2029',
  'x'.repeat(65),
];
const WRONG_TYPES: readonly unknown[] = [null, true, false, [], [1], {}, { $gt: 0 }, 'NaN', '1', -1.5];
const HUGE = ['1e400', '9223372036854775808', '1e308', '4294967297', '9007199254740993', '1000000000000'];
const BAD_QTY = ['-1', '0', '0.5', '1.0000001', '-0.0001', '99.99', '100', '-9007199254740991', '1e-7'];

/** The endpoints a user calls, with a body that would be valid for alice (except where noted). */
function userEndpoints(w: FuzzWorld) {
  const gift = (extra = '') => `{"giftId":"${w.giftId}","quantity":1${extra}}`;
  return [
    { method: 'POST', path: `/clubs/${w.clubA}/gifts/send`, body: gift() },
    { method: 'POST', path: `/games/${w.game}/gifts/send`, body: gift() },
    { method: 'POST', path: '/gifts/send', body: gift(`,"recipientType":"user","recipientId":"${w.bob}"`) },
    { method: 'GET', path: '/wallet' },
    { method: 'GET', path: '/gifts' },
    { method: 'GET', path: '/gifts/history?limit=5' },
    { method: 'GET', path: `/clubs/${w.clubA}/gifts/recent` },
    { method: 'GET', path: `/clubs/${w.clubA}/threshold` },
    { method: 'GET', path: `/clubs/${w.clubA}/events/active` },
    { method: 'GET', path: '/notifications' },
    { method: 'PUT', path: '/notifications/read', body: '{"all":true}' },
  ];
}

const SEND_PATHS = (w: FuzzWorld) => [
  `/clubs/${w.clubA}/gifts/send`,
  `/games/${w.game}/gifts/send`,
  '/gifts/send',
];

function sendBody(w: FuzzWorld, path: string, fields: Record<string, string>): string {
  const base: Record<string, string> = { giftId: JSON.stringify(w.giftId), quantity: '1', ...fields };
  if (path === '/gifts/send') {
    base.recipientType ??= '"user"';
    base.recipientId ??= JSON.stringify(w.bob);
  }
  return `{${Object.entries(base)
    .map(([k, v]) => `${JSON.stringify(k)}:${v}`)
    .join(',')}}`;
}

const json = { 'content-type': 'application/json' };

/** Percent-encodes a hostile string for a path segment (lone surrogates become U+FFFD first). */
function pathSafe(s: string): string {
  return encodeURIComponent(
    s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'),
  );
}

/** Builds `n` cases of class `cls`. Every case is invalid or not allowed: none may move a crown. */
export function makeCases(cls: string, n: number, w: FuzzWorld, pick: Pick, rand: () => number): RestCase[] {
  const auth = (t = w.aliceToken) => ({ authorization: `Bearer ${t}` });
  const out: RestCase[] = [];
  for (let i = 0; i < n; i++) {
    const path = pick(SEND_PATHS(w));
    const send = (fields: Record<string, string>, note: string, headers = {}): RestCase => ({
      cls,
      method: 'POST',
      path,
      headers: { ...auth(), ...json, ...headers },
      body: sendBody(w, path, fields),
      note,
    });
    switch (cls) {
      case 'wrong types': {
        const field = pick([
          'giftId',
          'quantity',
          'message',
          ...(path === '/gifts/send' ? ['recipientType', 'recipientId'] : []),
        ]);
        const v = pick(
          WRONG_TYPES.filter((x) =>
            field === 'quantity' ? typeof x !== 'number' || x === -1.5 : typeof x !== 'string',
          ),
        );
        out.push(send({ [field]: JSON.stringify(v) }, `${field}=${JSON.stringify(v)}`));
        break;
      }
      case 'huge numbers': {
        const v = pick(HUGE);
        if (rand() < 0.7) out.push(send({ quantity: v }, `quantity=${v}`));
        else
          out.push({
            cls,
            method: 'GET',
            path:
              pick(['/gifts/history', `/clubs/${w.clubA}/gifts/recent`, '/notifications']) + `?limit=${v}`,
            headers: auth(),
            note: `limit=${v}`,
          });
        break;
      }
      case 'negative/fractional quantities': {
        const v = pick(BAD_QTY);
        out.push(send({ quantity: v }, `quantity=${v}`));
        break;
      }
      case 'unicode': {
        const u = pick(UNICODE);
        const where = pick(['giftId', 'path', 'message', 'recipient']);
        if (where === 'giftId') out.push(send({ giftId: JSON.stringify(u) }, `giftId=${JSON.stringify(u)}`));
        else if (where === 'message') {
          // Longer than 200 characters however they are counted (code points or UTF-16 units).
          // Counted on the repeated string: repeating '\udfff\ud800' pairs its surrogates up, so
          // u.repeat(101) is 202 UTF-16 units but only 102 code points (a valid message).
          let long = u;
          while ([...long].length <= 200) long += u;
          out.push(send({ message: JSON.stringify(long) }, 'long unicode message'));
        } else if (where === 'recipient' || path === '/gifts/send') {
          out.push({
            cls,
            method: 'POST',
            path: '/gifts/send',
            headers: { ...auth(), ...json },
            body: sendBody(w, '/gifts/send', { recipientId: JSON.stringify(u) }),
            note: `recipientId=${JSON.stringify(u)}`,
          });
        } else {
          out.push({
            cls,
            method: 'POST',
            path: `/clubs/${pathSafe(u)}/gifts/send`,
            headers: { ...auth(), ...json },
            body: sendBody(w, '', {}),
            note: `clubId=${JSON.stringify(u)}`,
          });
        }
        break;
      }
      case '1 MB bodies': {
        const big = 'A'.repeat(1024 * 1024);
        const kind = pick(['json string', 'garbage', 'deep array']);
        const body =
          kind === 'json string'
            ? sendBody(w, path, { message: JSON.stringify(big) })
            : kind === 'garbage'
              ? big
              : `${'['.repeat(512 * 1024)}${']'.repeat(512 * 1024)}`;
        const target = pick([...SEND_PATHS(w), '/notifications/read', `/admin/users/${w.alice}/grants`]);
        out.push({
          cls,
          method: target === '/notifications/read' ? 'PUT' : 'POST',
          path: target,
          headers: target.startsWith('/admin')
            ? { authorization: `Bearer ${w.adminToken}`, ...json }
            : { ...auth(), ...json },
          body,
          note: `${kind} to ${target}`,
        });
        break;
      }
      case 'SQL-looking strings': {
        const s = pick(SQL);
        const where = pick(['giftId', 'path', 'cursor', 'key+bad body', 'recipientId']);
        if (where === 'giftId') out.push(send({ giftId: JSON.stringify(s) }, `giftId=${s}`));
        else if (where === 'recipientId')
          out.push({
            cls,
            method: 'POST',
            path: '/gifts/send',
            headers: { ...auth(), ...json },
            body: sendBody(w, '/gifts/send', { recipientId: JSON.stringify(s) }),
            note: `recipientId=${s}`,
          });
        else if (where === 'path') {
          const sub = pick(['gifts/recent', 'threshold', 'gifts/send']);
          out.push({
            cls,
            method: sub === 'gifts/send' ? 'POST' : 'GET',
            path: `/clubs/${encodeURIComponent(s)}/${sub}`,
            headers: { ...auth(), ...(sub === 'gifts/send' ? json : {}) },
            ...(sub === 'gifts/send' ? { body: sendBody(w, '', {}) } : {}),
            note: `clubId=${s}`,
          });
        } else if (where === 'cursor')
          out.push({
            cls,
            method: 'GET',
            path: `${pick(['/gifts/history', '/notifications'])}?cursor=${encodeURIComponent(s)}`,
            headers: auth(),
            note: `cursor=${s}`,
          });
        else out.push(send({ quantity: '0' }, `key=${s} with quantity 0`, { 'idempotency-key': s }));
        break;
      }
      case 'JWTs': {
        const tokens = hostileTokens(w.alice, w.audience);
        const name = pick([...Object.keys(tokens), 'missing', 'empty bearer', 'basic scheme', 'two headers']);
        const ep = pick(userEndpoints(w));
        const headers: Record<string, string> =
          name === 'missing'
            ? {}
            : name === 'empty bearer'
              ? { authorization: 'Bearer ' }
              : name === 'basic scheme'
                ? { authorization: `Basic ${Buffer.from('alice:pw').toString('base64')}` }
                : name === 'two headers'
                  ? { authorization: `Bearer ${tokens.forged}, Bearer ${w.aliceToken}` }
                  : { authorization: `Bearer ${tokens[name]}` };
        out.push({
          cls,
          method: ep.method,
          path: ep.path,
          headers: { ...headers, ...(ep.body ? json : {}) },
          ...(ep.body ? { body: ep.body } : {}),
          note: `${name} on ${ep.method} ${ep.path}`,
        });
        break;
      }
      case 'idempotency keys': {
        const kind = pick([
          'reuse other body',
          'reuse other club',
          'too long',
          'non-ascii',
          'control chars',
          'empty',
          'space',
        ]);
        if (kind === 'reuse other body' || kind === 'reuse other club') {
          const body =
            kind === 'reuse other body'
              ? `{"giftId":"${w.giftId}","quantity":${2 + Math.floor(rand() * 5)}}`
              : w.reusedBody;
          out.push({
            cls,
            method: 'POST',
            path:
              kind === 'reuse other club' ? `/games/${w.game}/gifts/send` : `/clubs/${w.clubA}/gifts/send`,
            headers: { ...auth(), ...json, 'idempotency-key': w.reusedKey },
            body,
            note: kind,
          });
        } else {
          const key =
            kind === 'too long'
              ? 'k'.repeat(201 + Math.floor(rand() * 1000))
              : kind === 'non-ascii'
                ? 'clé-ÿ'
                : kind === 'control chars'
                  ? 'a\tb'
                  : kind === 'space'
                    ? 'a b'
                    : '';
          out.push(send({}, `key ${kind}`, { 'idempotency-key': key }));
        }
        break;
      }
      case "another user's resources": {
        const kind = pick([
          'gift in foreign club',
          'read foreign club threshold',
          'gift in foreign game',
          'self gift',
          'player not in game',
        ]);
        if (kind === 'gift in foreign club')
          out.push({
            cls,
            method: 'POST',
            path: `/clubs/${w.clubA}/gifts/send`,
            headers: { ...auth(w.bobToken), ...json },
            body: sendBody(w, '', {}),
            note: kind,
          });
        else if (kind === 'read foreign club threshold')
          out.push({
            cls,
            method: 'GET',
            path: `/clubs/${w.clubA}/${pick(['threshold', 'gifts/recent', 'events/active'])}`,
            headers: auth(w.bobToken),
            note: kind,
          });
        else if (kind === 'gift in foreign game')
          out.push({
            cls,
            method: 'POST',
            path: `/games/${w.game}/gifts/send`,
            headers: { ...auth(w.bobToken), ...json },
            body: sendBody(w, '', {}),
            note: kind,
          });
        else if (kind === 'self gift')
          out.push({
            cls,
            method: 'POST',
            path: '/gifts/send',
            headers: { ...auth(), ...json },
            body: sendBody(w, '/gifts/send', { recipientId: JSON.stringify(w.alice) }),
            note: kind,
          });
        else
          out.push({
            cls,
            method: 'POST',
            path: `/games/${w.game}/gifts/send`,
            headers: { ...auth(), ...json },
            body: sendBody(w, '', { recipientUserId: JSON.stringify(w.bob) }),
            note: kind,
          });
        break;
      }
      case 'headers and framing': {
        const kind = pick([
          'text/plain',
          'form',
          'no content-type',
          'broken json',
          'json array',
          'json null',
          'charset junk',
          'big header',
          'unknown route',
          'wrong method',
        ]);
        const ep = { method: 'POST', path, body: sendBody(w, path, { quantity: '0' }) };
        const ct =
          kind === 'text/plain'
            ? 'text/plain'
            : kind === 'form'
              ? 'application/x-www-form-urlencoded'
              : kind === 'charset junk'
                ? 'application/json; charset=klingon'
                : 'application/json';
        const body =
          kind === 'broken json'
            ? '{"giftId": "x", "quantity": 1'
            : kind === 'json array'
              ? '[]'
              : kind === 'json null'
                ? 'null'
                : kind === 'form'
                  ? 'giftId=x&quantity=1'
                  : ep.body;
        if (kind === 'unknown route' || kind === 'wrong method') {
          out.push({
            cls,
            method: kind === 'wrong method' ? pick(['DELETE', 'PATCH']) : 'GET',
            path:
              kind === 'wrong method'
                ? '/wallet'
                : pick(['/admin', '/../etc/passwd', '/wallet/x', '/%00', '/clubs//gifts/send']),
            headers: auth(),
            note: kind,
          });
        } else {
          out.push({
            cls,
            method: 'POST',
            path,
            headers: {
              ...auth(),
              ...(kind === 'no content-type' ? {} : { 'content-type': ct }),
              ...(kind === 'big header' ? { 'x-junk': 'j'.repeat(12_000) } : {}),
            },
            body,
            note: kind,
          });
        }
        break;
      }
      case 'admin API': {
        const kind = pick([
          'no credential',
          'forged credential',
          'user token',
          'negative grant',
          'fractional grant',
          'huge grant',
          'string grant',
          'bad ids',
        ]);
        const cred =
          kind === 'no credential'
            ? {}
            : kind === 'forged credential'
              ? { authorization: `Bearer ${'x'.repeat(w.adminToken.length)}` }
              : kind === 'user token'
                ? auth()
                : { authorization: `Bearer ${w.adminToken}` };
        const amount =
          kind === 'negative grant'
            ? '-100'
            : kind === 'fractional grant'
              ? '10.5'
              : kind === 'huge grant'
                ? pick(HUGE)
                : kind === 'string grant'
                  ? '"100"'
                  : '100';
        const target =
          kind === 'bad ids'
            ? `/admin/users/${pathSafe(pick([...SQL, ...UNICODE]))}/grants`
            : `/admin/users/${w.alice}/grants`;
        out.push({
          cls,
          method: 'POST',
          path: target,
          headers: { ...cred, ...json },
          body: `{"amount":${kind === 'bad ids' ? '0' : amount}}`,
          note: kind,
        });
        break;
      }
      default:
        throw new Error(`unknown class ${cls}`);
    }
  }
  return out;
}

export const REST_CLASSES = [
  'wrong types',
  'huge numbers',
  'negative/fractional quantities',
  'unicode',
  '1 MB bodies',
  'SQL-looking strings',
  'JWTs',
  'idempotency keys',
  "another user's resources",
  'headers and framing',
  'admin API',
];
