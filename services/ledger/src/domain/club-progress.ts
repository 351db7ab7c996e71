import type { EventGoalReachedData, Room } from '@crowncast/protocol';
import { ISSUER, userAccount } from './accounts.js';
import {
  type BatchState,
  type ClubInfo,
  type Emit,
  type LiveEvent,
  type Plan,
  transfer,
  walletEvent,
} from './plan.js';
import { thresholdAfter } from './threshold.js';

/**
 * What a club gift moves besides crowns: the club's threshold bar, the progress of its live events,
 * and, when a gift crosses an event's goal, the rewards to the club and every member.
 */

/** Threshold bar and live event goals move with every club gift. */
export function applyClubProgress(
  state: BatchState,
  plan: Plan,
  emit: Emit,
  club: ClubInfo,
  senderId: string,
  total: number,
  now: Date,
) {
  const room: Room = `club:${club.id}`;
  const threshold = thresholdAfter(club.id, club.levels, club.thresholdValue, total);
  club.thresholdValue += total;
  plan.clubs.set(club.id, { thresholdValue: club.thresholdValue, experience: club.experience });
  if (threshold) emit(room, 'club:threshold:updated', threshold);

  for (const ev of state.events.get(club.id) ?? []) {
    if (ev.endsAt <= now) continue;
    ev.totalContributed += total;
    ev.contributions.set(senderId, (ev.contributions.get(senderId) ?? 0) + total);
    const added = plan.contributions.get(ev.id) ?? new Map<string, number>();
    added.set(senderId, (added.get(senderId) ?? 0) + total);
    plan.contributions.set(ev.id, added);
    const ts = now.toISOString();
    emit(room, 'club:event:progress', {
      eventId: ev.id,
      clubId: club.id,
      eventName: ev.name,
      totalContributed: ev.totalContributed,
      goalTarget: ev.goal,
      progress: Math.min(100, Math.round((ev.totalContributed / ev.goal) * 10_000) / 100),
      endsAt: ev.endsAt.toISOString(),
      timestamp: ts,
    });
    if (!ev.goalReached && ev.totalContributed >= ev.goal) {
      const members = state.membersOf.get(club.id);
      if (!members) {
        plan.needsMembers.add(club.id);
      } else {
        ev.goalReached = true;
        rewardMembers(state, plan, emit, club, ev, members, ts);
      }
    }
    plan.events.set(ev.id, { totalContributed: ev.totalContributed, goalReached: ev.goalReached });
  }
}

/** Credits every member the event's crown bonus from the issuer, and the club its experience. */
function rewardMembers(
  state: BatchState,
  plan: Plan,
  emit: Emit,
  club: ClubInfo,
  ev: LiveEvent,
  members: string[],
  ts: string,
) {
  const rewardId = `rwd_${ev.id}`;
  club.experience += ev.rewardClubExperience;
  plan.clubs.set(club.id, { thresholdValue: club.thresholdValue, experience: club.experience });
  const top = [...ev.contributions.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, 5)
    .map(([userId, contribution], i) => ({
      userId,
      username: state.users.get(userId)?.username ?? userId,
      contribution,
      rank: i + 1,
    }));
  const reached: EventGoalReachedData = {
    eventId: ev.id,
    clubId: club.id,
    eventName: ev.name,
    goalReached: true,
    totalContributed: ev.totalContributed,
    goalTarget: ev.goal,
    rewards: { clubExperience: ev.rewardClubExperience, memberCrownsBonus: ev.rewardMemberCrowns },
    topContributors: top,
    timestamp: ts,
  };
  emit(`club:${club.id}`, 'club:event:goal:reached', reached);
  if (ev.rewardMemberCrowns <= 0) return;
  for (const memberId of members) {
    const e = transfer(
      state,
      plan,
      rewardId,
      'event_reward',
      ISSUER,
      userAccount(memberId),
      ev.rewardMemberCrowns,
    );
    emit(`user:${memberId}`, 'wallet:balance_updated', {
      ...walletEvent(memberId, e.creditBefore, e.creditAfter, 'event_reward', rewardId, ts),
    });
  }
}
