import { openRoom } from './room.js';
import { DEMO_USERS } from './users.js';
import { el } from './view.js';

/** Sign-in: pick one of the seeded demo users (or `?user=alice` to skip it). */
function signIn(app: HTMLElement): void {
  app.replaceChildren(
    el('section', { class: 'card signin' }, [
      el('h1', {}, ['👑 Crowncast demo']),
      el('p', {}, ['Sign in as one of the demo users to enter the club room.']),
      el(
        'div',
        { class: 'users' },
        DEMO_USERS.map((u) =>
          el('button', { 'data-user': u.id, onclick: () => start(app, u.id) }, [`Sign in as ${u.name}`]),
        ),
      ),
    ]),
  );
}

function start(app: HTMLElement, userId: string): void {
  history.replaceState(null, '', `?user=${encodeURIComponent(userId)}`);
  void openRoom(app, userId);
}

const app = document.getElementById('app') as HTMLElement;
const user = new URLSearchParams(location.search).get('user');
if (user) start(app, user);
else signIn(app);
