import type { BenchConfig } from '../config.js';
import type { Target } from './target.js';

export async function startCrowncast(_cfg: BenchConfig): Promise<Target> {
  throw new Error('services/edge is not there yet');
}
