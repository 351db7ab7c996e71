/** Messages between the e2e orchestrator and its forked member processes. */
export interface MemberSpec {
  /** http:// URLs of the edges; socket i goes to edge i % edges. */
  edgeUrls: string[];
  /** Global index of this process's first socket; socket i is user `${userPrefix}${c}_${m}` of club c = i % clubs. */
  from: number;
  count: number;
  clubs: number;
  userPrefix: string;
  clubPrefix: string;
  /** Opens spread evenly over this many ms (the edges' accept loops are not a benchmark here). */
  spreadMs: number;
}

export interface MemberReport {
  connected: number;
  failed: Record<string, number>;
  open: number;
  /** Per socket: its club index and how many distinct gift:received events it got. */
  perSocket: [club: number, unique: number][];
  duplicated: number;
  latencies: number[];
  /** Sockets closed after they joined (each loses what came after). */
  dropped: number;
}

export type ToMember = { op: 'connect'; spec: MemberSpec } | { op: 'report' } | { op: 'close' };
export type FromMember =
  | { op: 'ready' }
  | { op: 'connected'; connected: number; failed: Record<string, number>; elapsedMs: number }
  | { op: 'report'; report: MemberReport }
  | { op: 'closed' };
