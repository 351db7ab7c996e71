import { randomUUID } from 'node:crypto';
import { roomSubject } from '@crowncast/protocol';
import { cleanup, type Isolation, isolation, serviceUrls } from '@crowncast/testkit';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { adminCall } from '../lib/admin.js';
import { Member } from '../lib/member.js';
import { Stack, sleep, waitFor } from '../lib/stack.js';

/** The limits the hostile-input stack runs with (documented variables of docs/edge.md). */
export const WS_FUZZ_EDGE_ENV = {
  WS_MAX_FRAME_BYTES: '16384',
  WS_MAX_MESSAGES_PER_MIN: '120',
  WS_MAX_CONNECTIONS_PER_USER: '10',
  WS_SEND_BUFFER_MAX_BYTES: '262144',
  // A client that reads nothing is cut within a second of falling behind, not after a heartbeat.
  WS_SEND_MAX_LAG_MS: '1000',
  // Unfinished upgrades are cut after 2 s (checked every second); the slowloris class holds longer.
  WS_HANDSHAKE_TIMEOUT_MS: '2000',
  ALLOWED_ORIGINS: 'https://crowncast.example',
};

/** A club:message envelope (a valid room event any internal service may publish). */
export function clubMessage(userId: string, text: string, extra: Record<string, unknown> = {}) {
  return {
    type: 'club:message',
    id: `m-${randomUUID()}`,
    ts: new Date().toISOString(),
    data: { userId, text, ...extra },
  };
}

/**
 * The world hostile clients meet: a ledger, edges, a club `clubA` with a well-behaved member
 * (`bystander`, a resuming Member) fed valid events over NATS all along, and `clubB` nobody hostile
 * belongs to. `published` holds every valid event id sent into clubA: the bystander must get each
 * exactly once, in order, without ever being disconnected.
 */
export class FuzzWorld {
  readonly iso: Isolation = isolation();
  readonly stack: Stack;
  readonly p: string;
  nc!: NatsConnection;
  bystander!: Member;
  readonly published: string[] = [];
  private feeder: NodeJS.Timeout | null = null;
  readonly health = { samples: 0, notReady: 0, rssPeakMb: 0 };
  private watcher: NodeJS.Timeout | null = null;

  constructor(edges: number, edgeEnv: Record<string, string> = WS_FUZZ_EDGE_ENV) {
    this.stack = new Stack(this.iso, { edges, presence: false, edgeEnv });
    this.p = `w${this.iso.id}`;
  }

  get clubA(): string {
    return `${this.p}clubA`;
  }
  get clubB(): string {
    return `${this.p}clubB`;
  }
  user(name: string): string {
    return `${this.p}${name}`;
  }
  edgeUrl(i = 0): string {
    return this.stack.edgeUrls()[i] as string;
  }

  async start(hostileUsers: string[]): Promise<void> {
    await this.stack.start();
    const base = this.stack.ledger.url;
    await adminCall(base, 'PUT', `/admin/clubs/${this.clubA}`, { name: 'A' });
    await adminCall(base, 'PUT', `/admin/clubs/${this.clubB}`, { name: 'B' });
    for (const name of ['bystander', ...hostileUsers]) {
      await adminCall(base, 'PUT', `/admin/users/${this.user(name)}`, { username: name });
      await adminCall(base, 'PUT', `/admin/clubs/${this.clubA}/members/${this.user(name)}`);
    }
    this.nc = await connect({ servers: serviceUrls.nats });
    this.bystander = new Member(this.user('bystander'), this.clubA, () => this.stack.edgeUrls());
    await this.bystander.start();
    if (!(await waitFor(() => this.bystander.joined, 15_000))) throw new Error('bystander did not join');
  }

  /** Publishes one valid event into clubA (recorded as expected for the bystander). */
  publishA(extra: Record<string, unknown> = {}, text = 'hello'): void {
    const e = clubMessage(this.user('feeder'), text, extra);
    this.published.push(e.id);
    this.nc.publish(roomSubject(`club:${this.clubA}`, this.iso.prefix), JSON.stringify(e));
  }

  /** Valid traffic for the bystander all along, and health/RSS sampled from every edge. */
  startBackground(feedPerSec = 20): void {
    this.feeder = setInterval(() => this.publishA(), 1000 / feedPerSec);
    this.watcher = setInterval(() => {
      for (const url of this.stack.edgeUrls()) {
        this.health.samples++;
        fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2000) })
          .then((r) => r.status === 200)
          .catch(() => false)
          .then((ok) => {
            if (!ok) this.health.notReady++;
          });
        edgeRssMb(url).then((mb) => {
          this.health.rssPeakMb = Math.max(this.health.rssPeakMb, mb);
        });
      }
    }, 250);
  }

  async stopBackground(): Promise<void> {
    if (this.feeder) clearInterval(this.feeder);
    if (this.watcher) clearInterval(this.watcher);
    await this.nc.flush();
  }

  /** Waits until the bystander holds every published event; returns how many it is missing. */
  async bystanderMissing(timeoutMs = 15_000): Promise<number> {
    const missing = () => this.published.filter((id) => !this.bystander.ids.has(id)).length;
    await waitFor(() => missing() === 0, timeoutMs, 100);
    return missing();
  }

  async stop(): Promise<void> {
    await this.stopBackground().catch(() => {});
    await this.bystander?.stop();
    await this.nc?.close().catch(() => {});
    await this.stack.stop();
    await cleanup(this.iso).catch(() => {});
  }
}

/** A gauge or counter from an edge's /metrics (sum over labels); NaN when unreachable. */
export async function edgeMetric(url: string, name: string): Promise<number> {
  const text = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(3000) })
    .then((r) => r.text())
    .catch(() => '');
  let sum = Number.NaN;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) {
      sum = (Number.isNaN(sum) ? 0 : sum) + Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return sum;
}

export async function edgeRssMb(url: string): Promise<number> {
  return (await edgeMetric(url, 'crowncast_edge_process_resident_memory_bytes')) / 2 ** 20;
}

export { sleep, waitFor };
