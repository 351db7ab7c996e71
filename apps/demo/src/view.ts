type Child = Node | string;
type Attrs = Record<string, string | number | boolean | ((ev: Event) => void)>;

/** Creates an element; `on*` attributes become listeners, the rest attributes. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  children: Child[] = [],
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (v !== false) e.setAttribute(k, String(v));
  }
  e.append(...children);
  return e;
}

export const fmt = (n: number) => n.toLocaleString('en-US');

/** "1d 02:03:04" until `endsAt`, or "ended". */
export function countdown(endsAt: number, now: number): string {
  let s = Math.max(0, Math.floor((endsAt - now) / 1000));
  if (s === 0) return 'ended';
  const d = Math.floor(s / 86_400);
  s -= d * 86_400;
  const hms = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60]
    .map((x) => String(x).padStart(2, '0'))
    .join(':');
  return d ? `${d}d ${hms}` : hms;
}

/** The room page's skeleton; the room fills the parts by id. */
export function roomSkeleton(userName: string): HTMLElement {
  return el('div', { class: 'room' }, [
    el('header', { class: 'top' }, [
      el('h1', {}, ['👑 Dragon Riders']),
      el('div', { class: 'me' }, [
        el('span', { id: 'me' }, [userName]),
        el('span', { id: 'wallet', class: 'wallet', title: 'your crowns' }, ['…']),
        el('span', { id: 'conn', class: 'conn' }, ['connecting']),
      ]),
    ]),
    el('section', { class: 'card' }, [
      el('div', { class: 'row' }, [
        el('h2', {}, ['Club level']),
        el('span', { id: 'threshold-text' }, ['…']),
      ]),
      el('div', { class: 'bar' }, [el('div', { id: 'threshold-fill', class: 'fill' })]),
    ]),
    el('section', { class: 'card' }, [
      el('div', { class: 'row' }, [
        el('h2', { id: 'event-name' }, ['No event running']),
        el('span', { id: 'event-countdown', class: 'countdown' }, ['']),
      ]),
      el('div', { class: 'bar event' }, [el('div', { id: 'event-fill', class: 'fill' })]),
      el('div', { id: 'event-text', class: 'small' }, ['']),
    ]),
    el('div', { class: 'cols' }, [
      el('section', { class: 'card' }, [
        el('h2', {}, ['Online']),
        el('ul', { id: 'members', class: 'members' }),
      ]),
      el('section', { class: 'card grow' }, [
        el('h2', {}, ['Recent gifts']),
        el('ul', { id: 'feed', class: 'feed' }),
      ]),
    ]),
    el('section', { class: 'card' }, [
      el('h2', {}, ['Send a gift']),
      el('div', { id: 'tray', class: 'tray' }),
      el('div', { id: 'toast', class: 'toast', hidden: true }),
    ]),
    el('div', { id: 'stage', class: 'stage' }),
  ]);
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  return document.getElementById(id) as T;
}
