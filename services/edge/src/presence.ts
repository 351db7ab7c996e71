import {
  PRESENCE_HEARTBEAT_MAX_CONNECTIONS,
  type PresenceConnection,
  type PresenceConnectionNotice,
  type PresenceHeartbeat,
  presenceSubject,
} from '@crowncast/protocol';
import type { NatsConnection } from '@nats-io/transport-node';

export interface PresenceOptions {
  nc: NatsConnection;
  prefix: string;
  edgeId: string;
  intervalMs: number;
  /** Every connection this edge holds, as presence sees it. */
  snapshot: () => PresenceConnection[];
}

export type Presence = ReturnType<typeof createPresence>;

/**
 * Tells the presence service who is here: one heartbeat per interval for the whole edge (chunked
 * under NATS's payload limit), plus a notice on connect, disconnect, room change and activity.
 */
export function createPresence(o: PresenceOptions) {
  const publish = (subject: string, body: unknown) => {
    if (!o.nc.isClosed()) o.nc.publish(subject, JSON.stringify(body));
  };
  const notice = (kind: 'connect' | 'disconnect' | 'rooms' | 'activity', connection: PresenceConnection) => {
    const body: PresenceConnectionNotice = { edgeId: o.edgeId, at: Date.now(), connection };
    publish(presenceSubject(kind, o.edgeId, o.prefix), body);
  };

  function heartbeat() {
    const all = o.snapshot();
    const chunks = Math.max(1, Math.ceil(all.length / PRESENCE_HEARTBEAT_MAX_CONNECTIONS));
    const sentAt = Date.now();
    for (let chunk = 0; chunk < chunks; chunk++) {
      const connections = all.slice(
        chunk * PRESENCE_HEARTBEAT_MAX_CONNECTIONS,
        (chunk + 1) * PRESENCE_HEARTBEAT_MAX_CONNECTIONS,
      );
      const body: PresenceHeartbeat = {
        edgeId: o.edgeId,
        intervalMs: o.intervalMs,
        sentAt,
        chunk,
        chunks,
        connections,
      };
      publish(presenceSubject('heartbeat', o.edgeId, o.prefix), body);
    }
  }
  const timer = setInterval(heartbeat, o.intervalMs);
  timer.unref();

  return {
    connected: (c: PresenceConnection) => notice('connect', c),
    disconnected: (c: PresenceConnection) => notice('disconnect', c),
    roomsChanged: (c: PresenceConnection) => notice('rooms', c),
    activity: (c: PresenceConnection) => notice('activity', c),
    heartbeat,
    close(): void {
      clearInterval(timer);
    },
  };
}
