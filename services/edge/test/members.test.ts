import { describe, expect, it } from 'vitest';
import type { Conn } from '../src/conn/types.js';
import {
  eachMember,
  type Member,
  type Members,
  memberOf,
  withMember,
  withoutMember,
} from '../src/fanout/members.js';

const member = (id: string): Member => ({ conn: { id } as Conn, buffered: null, after: 0 });

describe('a room’s members', () => {
  it('holds one member directly, a Map from the second, and goes back as members leave', () => {
    const [a, b, c] = [member('a'), member('b'), member('c')];
    let ms: Members = withMember(null, a);
    expect(ms).toBe(a);
    expect(memberOf(ms, 'a')).toBe(a);
    expect(memberOf(ms, 'b')).toBeUndefined();

    ms = withMember(ms, b);
    expect(ms).toBeInstanceOf(Map);
    ms = withMember(ms, c);
    expect([...eachMember(ms)]).toEqual([a, b, c]);

    let r = withoutMember(ms, 'b');
    expect(r.removed).toBe(true);
    expect([...eachMember(r.members)]).toEqual([a, c]);
    r = withoutMember(r.members, 'a');
    expect(r.members).toBe(c);
    expect(withoutMember(r.members, 'x')).toEqual({ members: c, removed: false });
    r = withoutMember(r.members, 'c');
    expect(r).toEqual({ members: null, removed: true });
    expect([...eachMember(r.members)]).toEqual([]);
  });

  it('replaces the member of the same connection (a rejoin) instead of adding a second', () => {
    const a1 = member('a');
    const a2 = member('a');
    expect(withMember(a1, a2)).toBe(a2);
    const both = withMember(withMember(a1, member('b')), a2);
    expect(memberOf(both, 'a')).toBe(a2);
    expect([...eachMember(both)]).toHaveLength(2);
  });
});
