import { describe, expect, it } from 'vitest';
import type { Conn } from '../src/conn/types.js';
import {
  connOf,
  eachMember,
  type Member,
  type Members,
  memberOf,
  ResumingMember,
  withMember,
  withoutMember,
} from '../src/fanout/members.js';

const conn = (id: string): Conn => ({ id }) as Conn;

describe('a room’s members', () => {
  it('holds one member directly, a Map from the second, and goes back as members leave', () => {
    const [a, b, c] = [conn('a'), conn('b'), conn('c')];
    let ms: Members = withMember(null, a);
    expect(ms).toBe(a);
    expect(memberOf(ms, a)).toBe(a);
    expect(memberOf(ms, b)).toBeUndefined();

    ms = withMember(ms, b);
    expect(ms).toBeInstanceOf(Map);
    ms = withMember(ms, c);
    expect([...eachMember(ms)]).toEqual([a, b, c]);

    let r = withoutMember(ms, b);
    expect(r.removed).toBe(true);
    expect([...eachMember(r.members)]).toEqual([a, c]);
    r = withoutMember(r.members, a);
    expect(r.members).toBe(c);
    expect(withoutMember(r.members, conn('x'))).toEqual({ members: c, removed: false });
    r = withoutMember(r.members, c);
    expect(r).toEqual({ members: null, removed: true });
    expect([...eachMember(r.members)]).toEqual([]);
  });

  it('keeps a resuming member as a wrapper and finds it by its connection', () => {
    const [a, b] = [conn('a'), conn('b')];
    const resuming = new ResumingMember(b);
    const ms = withMember(withMember(null, a), resuming);
    expect(memberOf(ms, b)).toBe(resuming);
    expect([...eachMember(ms)].map(connOf).map((c) => c.id)).toEqual(['a', 'b']);
    const alone = withoutMember(ms, a).members;
    expect(alone).toBe(resuming);
    expect(memberOf(alone, b)).toBe(resuming);
    // Another connection of the same id is not this member: connections are told apart by identity.
    expect(memberOf(alone, conn('b'))).toBeUndefined();
    expect(withoutMember(alone, b)).toEqual({ members: null, removed: true });
  });

  it('replaces the member of the same connection (a rejoin) instead of adding a second', () => {
    const a = conn('a');
    const a2: Member = new ResumingMember(a);
    expect(withMember(a, a2)).toBe(a2);
    const both = withMember(withMember(a, conn('b')), a2);
    expect(memberOf(both, a)).toBe(a2);
    expect([...eachMember(both)]).toHaveLength(2);
  });
});
