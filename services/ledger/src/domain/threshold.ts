import type { ThresholdData } from '@crowncast/protocol';

export interface ThresholdLevel {
  name: string;
  target: number;
}

/**
 * The club threshold bar after `delta` crowns move it from `previousValue`. It reports the level
 * that was being worked toward, so the gift that crosses a level shows it completed.
 */
export function thresholdAfter(
  clubId: string,
  levels: readonly ThresholdLevel[],
  previousValue: number,
  delta: number,
): ThresholdData | null {
  if (levels.length === 0) return null;
  const sorted = [...levels].sort((a, b) => a.target - b.target);
  const level = sorted.find((l) => l.target > previousValue) ?? (sorted[sorted.length - 1] as ThresholdLevel);
  const currentValue = previousValue + delta;
  return {
    clubId,
    previousValue,
    currentValue,
    targetValue: level.target,
    progress: Math.min(100, Math.round((currentValue / level.target) * 10_000) / 100),
    levelName: level.name,
    completed: currentValue >= level.target,
  };
}

/** The level a club is working toward now (null when it has no levels). */
export function currentLevel(levels: readonly ThresholdLevel[], value: number) {
  if (levels.length === 0) return null;
  const sorted = [...levels].sort((a, b) => a.target - b.target);
  const level = sorted.find((l) => l.target > value) ?? (sorted[sorted.length - 1] as ThresholdLevel);
  return {
    levelName: level.name,
    targetValue: level.target,
    progress: Math.min(100, Math.round((value / level.target) * 10_000) / 100),
    completed: value >= level.target,
    levels: sorted.map((l) => ({ ...l, reached: value >= l.target })),
  };
}
