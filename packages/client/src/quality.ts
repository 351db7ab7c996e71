/** Connection quality from the application ping's round trip. */
export type Quality = 'excellent' | 'good' | 'fair' | 'poor';

/** excellent < 100 ms, good < 300 ms, fair < 1 s, poor otherwise (or no pong at all). */
export function qualityOf(rttMs: number): Quality {
  if (rttMs < 100) return 'excellent';
  if (rttMs < 300) return 'good';
  if (rttMs < 1000) return 'fair';
  return 'poor';
}
