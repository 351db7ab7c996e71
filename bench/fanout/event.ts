import type { RoomEvent } from '@crowncast/protocol';

/**
 * Every benchmark event carries a marker `@@<phase><send time>@@` inside a string field. Clients find
 * it with Buffer.indexOf instead of parsing JSON, so a batch frame of k events counts as k events and
 * the client stays cheap. The phase letter tells which measurement window an event belongs to.
 */
export const MARK = Buffer.from('@@');
export const PHASES = 26;

/**
 * The machine's monotonic clock in ms, sub-ms resolution: the same clock in every process on the
 * machine (CLOCK_MONOTONIC). It used to be `performance.timeOrigin + performance.now()`, the wall
 * clock read once at process start plus a monotonic count; when this VM's wall clock stepped by ~6 s
 * during a run, processes started before and after the step disagreed by that much and every latency
 * came out 5.8-6.6 s. The envelope's `ts` stays wall clock (what a real event carries).
 */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function marker(phase: number, ts: number): string {
  return `@@${String.fromCharCode(97 + (phase % PHASES))}${ts.toFixed(3)}@@`;
}

/** A realistic gift:received envelope (about 600 bytes of JSON) with the marker in `message`. */
export function giftEvent(id: string, clubId: string, mark: string): RoomEvent {
  const iso = new Date().toISOString();
  return {
    type: 'gift:received',
    id,
    ts: iso,
    data: {
      giftTransactionId: `gtx_${id}`,
      gift: {
        id: 'gift_rose',
        name: 'Rose',
        icon: 'https://cdn.example.com/gifts/rose.png',
        animationUrl: 'https://cdn.example.com/gifts/rose.json',
        audioUrl: 'https://cdn.example.com/gifts/rose.mp3',
        category: 'basic',
        rarity: 'common',
      },
      sender: { userId: 'bench_sender', username: 'bench sender', avatar: '', tier: 'gold', level: 12 },
      context: { type: 'club', id: clubId, name: 'bench club' },
      quantity: 1,
      totalValue: 10,
      message: mark,
      timestamp: iso,
      animation: { duration: 2500, url: 'https://cdn.example.com/gifts/rose.json', audioUrl: '' },
    },
  };
}

/**
 * Finds the markers of one received frame: counts each event under its phase and, for a sampled
 * socket, records send-to-receipt latency. Returns the phase of the frame's first event, or -1.
 */
export function scanFrame(
  buf: Buffer,
  counts: Float64Array,
  samples: ((phase: number, latencyMs: number) => void) | null,
  recvMs: number,
): number {
  let first = -1;
  let i = buf.indexOf(MARK);
  while (i !== -1) {
    const phase = (buf[i + 2] ?? 97) - 97;
    const end = buf.indexOf(MARK, i + 3);
    if (end === -1 || phase < 0 || phase >= PHASES) return first;
    if (first === -1) first = phase;
    counts[phase] = (counts[phase] ?? 0) + 1;
    if (samples) samples(phase, recvMs - Number(buf.toString('latin1', i + 3, end)));
    i = buf.indexOf(MARK, end + 2);
  }
  return first;
}
