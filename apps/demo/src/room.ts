import {
  AnimationQueue,
  type CrowncastClient,
  CrowncastError,
  connect,
  LedgerApi,
  type Playback,
  type RoomEventFrame,
  State,
} from '@crowncast/client';
import type { Gift, PresenceRoom } from '@crowncast/protocol';
import { DEMO_CLUB, DEMO_USERS, tokenSource } from './users.js';
import { byId, countdown, el, fmt, roomSkeleton } from './view.js';

type GiftShown = { txId: string; sender: string; giftId: string; name: string; icon: string; rarity: string };

/**
 * The club room: wallet, threshold bar, event countdown, members online, gift tray and the
 * animation stage, all kept live by one SDK connection; REST fills them first and again after a
 * `resync`.
 */
export async function openRoom(app: HTMLElement, userId: string): Promise<void> {
  const me = DEMO_USERS.find((u) => u.id === userId)?.name ?? userId;
  app.replaceChildren(roomSkeleton(me));
  const getToken = tokenSource(userId);
  const api = new LedgerApi({ baseUrl: '/api/ledger', getToken });
  const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
  // Short ping and backoff bounds: a demo should notice a lost network within seconds.
  const client = connect({
    url: wsUrl,
    getToken,
    pingIntervalMs: 3000,
    pongTimeoutMs: 3000,
    backoff: { maxMs: 4000 },
  });
  const catalog = new Map<string, Gift>();
  const shown = new Set<string>();

  const queue = new AnimationQueue<GiftShown>({
    serverOffset: () => client.serverOffsetMs,
    onStart: (p) => play(p, client.serverOffsetMs),
    onEnd: (p) => {
      document.querySelector(`[data-anim="${p.animation.id}"]`)?.remove();
      report(p.animation.item.txId, p.animation.durationMs - p.seekMs, true);
    },
    onDrop: (a) => report(a.item.txId, 0, false),
  });
  // Play analytics for the ledger (gift_animation_plays); losing one loses a statistic only.
  const report = (giftTransactionId: string, durationMs: number, completed: boolean) =>
    void client
      .reportAnimationPlayed({ giftTransactionId, platform: 'web', durationMs, completed })
      .catch(() => {});

  const addToFeed = (g: GiftShown, live: boolean) => {
    if (shown.has(g.txId)) return;
    shown.add(g.txId);
    const li = el('li', { 'data-tx': g.txId, class: live ? 'new' : '' }, [
      el('span', { class: 'icon' }, [g.icon]),
      el('b', {}, [g.sender]),
      ` sent ${g.name}`,
    ]);
    byId('feed').prepend(li);
    while (byId('feed').children.length > 30) byId('feed').lastElementChild?.remove();
  };

  // ---- live events ----
  client.on('state', ({ state }) => showConnection(client, state));
  client.on('quality', () => showConnection(client, client.state));
  client.on('gift:received', (e) => {
    if (e.room !== `club:${DEMO_CLUB}`) return;
    const g = shownOf(e);
    addToFeed(g, true);
    queue.push({ id: e.id, ts: Date.parse(e.ts), durationMs: e.data.animation.duration || 2500, item: g });
  });
  client.on('club:threshold:updated', (e) => {
    // The event names the level the gift worked toward; once crossed, REST tells the next one.
    showThreshold(e.data.levelName, e.data.currentValue, e.data.targetValue, e.data.progress);
    if (e.data.completed) {
      toast(`🏅 ${e.data.levelName} level reached!`);
      void api
        .clubThreshold(DEMO_CLUB)
        .then((t) => showThreshold(t.levelName, t.currentValue, t.targetValue, t.progress));
    }
  });
  client.on('club:event:progress', (e) =>
    showEvent(e.data.eventName, e.data.totalContributed, e.data.goalTarget, Date.parse(e.data.endsAt)),
  );
  client.on('club:event:goal:reached', (e) => toast(`🎉 ${e.data.eventName}: goal reached!`));
  client.on('wallet:balance_updated', (e) => {
    byId('wallet').textContent = `👑 ${fmt(e.data.balance)}`;
  });
  client.on('gift:global:announcement', (e) => {
    const b = byId('global-banner');
    b.textContent = `${e.data.gift.icon} ${e.data.sender.username} sent ${e.data.gift.name} in ${e.data.context.name}!`;
    b.hidden = false;
    b.classList.remove('show');
    void b.offsetWidth; // restart the CSS animation
    b.classList.add('show');
    setTimeout(() => {
      b.hidden = true;
    }, 8000);
  });
  client.on('club:member:connected', () => void loadMembers());
  client.on('club:member:disconnected', () => void loadMembers());
  client.on('resync', (r) => {
    if (r.room === `club:${DEMO_CLUB}`) void loadClub();
  });
  client.on('error', (err) => console.warn('crowncast:', err.code, err.message));

  // ---- REST ----
  async function loadClub() {
    const [threshold, events, recent] = await Promise.all([
      api.clubThreshold(DEMO_CLUB),
      api.activeClubEvents(DEMO_CLUB),
      api.recentClubGifts(DEMO_CLUB, 15),
    ]);
    showThreshold(threshold.levelName, threshold.currentValue, threshold.targetValue, threshold.progress);
    const ev = events[0];
    if (ev) showEvent(ev.name, ev.totalContributed, ev.goal, Date.parse(ev.endsAt));
    for (const t of [...recent].reverse()) {
      const g = catalog.get(t.giftId);
      addToFeed(
        {
          txId: t.id,
          sender: t.senderUsername,
          giftId: t.giftId,
          name: t.giftName,
          icon: g?.icon ?? '🎁',
          rarity: g?.rarity ?? 'common',
        },
        false,
      );
    }
  }

  async function loadMembers() {
    const res = await fetch(`/api/presence/presence/rooms/club:${DEMO_CLUB}?limit=50`, {
      headers: { authorization: `Bearer ${await getToken()}` },
    });
    if (!res.ok) return;
    const body = (await res.json()) as { data?: PresenceRoom };
    byId('members').replaceChildren(
      ...(body.data?.members ?? []).map((m) =>
        el('li', { 'data-member': m.userId, class: m.status }, [
          DEMO_USERS.find((u) => u.id === m.userId)?.name ?? m.userId,
        ]),
      ),
    );
  }

  function tray(gifts: Gift[]) {
    byId('tray').replaceChildren(
      ...gifts.map((g) =>
        el('button', { class: `gift ${g.rarity}`, 'data-gift': g.id, onclick: () => void send(g) }, [
          el('span', { class: 'icon' }, [g.icon]),
          el('span', {}, [g.name]),
          el('small', {}, [`👑 ${fmt(g.price)}`]),
        ]),
      ),
    );
  }

  async function send(g: Gift) {
    try {
      const r = await api.sendClubGift(DEMO_CLUB, { giftId: g.id });
      byId('wallet').textContent = `👑 ${fmt(r.remainingCrowns)}`;
    } catch (err) {
      toast(err instanceof CrowncastError ? `${err.code}: ${err.message}` : String(err));
    }
  }

  function shownOf(e: RoomEventFrame<'gift:received'>): GiftShown {
    const d = e.data;
    return {
      txId: d.giftTransactionId,
      sender: d.sender.username,
      giftId: d.gift.id,
      name: d.gift.name,
      icon: d.gift.icon,
      rarity: d.gift.rarity,
    };
  }

  setInterval(() => {
    const c = byId('event-countdown');
    const ends = Number(c.dataset.endsAt);
    if (ends) c.textContent = `⏳ ${countdown(ends, client.serverNow())}`;
  }, 1000);
  setInterval(() => void loadMembers(), 10_000);

  try {
    const [gifts, wallet] = await Promise.all([api.catalog(), api.wallet()]);
    for (const g of gifts) catalog.set(g.id, g);
    tray(gifts);
    byId('wallet').textContent = `👑 ${fmt(wallet.balance)}`;
    await loadClub();
    await client.joinClub(DEMO_CLUB);
    document.body.dataset.room = 'joined';
    await loadMembers();
  } catch (err) {
    toast(err instanceof CrowncastError ? `${err.code}: ${err.message}` : String(err));
  }
}

/** Shows one animation; its scheduled start and end in server time ride on the node as data attributes. */
function play(p: Playback<GiftShown>, serverOffsetMs: number): void {
  const g = p.animation.item;
  const node = el(
    'div',
    {
      class: `anim ${g.rarity}`,
      'data-anim': p.animation.id,
      'data-tx': g.txId,
      'data-server-start': String(p.startAt + serverOffsetMs),
      'data-server-end': String(p.endAt + serverOffsetMs),
    },
    [
      el('div', { class: 'big' }, [g.icon]),
      el('div', { class: 'who' }, [el('b', {}, [g.sender]), ` sent ${g.name}`]),
    ],
  );
  node.style.animationDuration = `${p.animation.durationMs}ms`;
  // A copy that arrived late joins the animation where every other screen is.
  node.style.animationDelay = `-${p.seekMs}ms`;
  byId('stage').append(node);
}

function showConnection(client: CrowncastClient, state: State): void {
  const c = byId('conn');
  c.textContent = state === State.Connected ? `● ${client.quality ?? 'connected'}` : state;
  c.className = `conn ${state} ${client.quality ?? ''}`;
  const banner = byId('conn-banner');
  const reconnecting = state === State.Disconnected || (state === State.Connecting && client.userId !== null);
  banner.hidden = !(reconnecting || state === State.Closed);
  banner.textContent = state === State.Closed ? 'Disconnected' : 'Reconnecting…';
}

function showThreshold(level: string | null, current: number, target: number | null, progress: number): void {
  byId('threshold-text').textContent = target
    ? `${level ?? ''} · ${fmt(current)} / ${fmt(target)}`
    : `${fmt(current)} (top level)`;
  byId('threshold-fill').style.width = `${Math.min(100, progress)}%`;
}

function showEvent(name: string, total: number, goal: number, endsAt: number): void {
  byId('event-name').textContent = name;
  byId('event-countdown').dataset.endsAt = String(endsAt);
  byId('event-fill').style.width = `${Math.min(100, (total / goal) * 100)}%`;
  byId('event-text').textContent = `${fmt(total)} / ${fmt(goal)} crowns`;
}

let toastTimer: ReturnType<typeof setTimeout> | undefined;
function toast(text: string): void {
  const t = byId('toast');
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    t.hidden = true;
  }, 5000);
}
