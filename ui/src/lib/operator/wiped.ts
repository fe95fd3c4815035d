import type { Screen } from '../screen';
import { h, tx } from '../ui/dom';

/** The registry revoked this device and the core wiped its vault: nothing is left to do here. */
export function wipedScreen(): Screen {
  const title = tx('h1', 'wiped.title', { tabindex: -1 });
  const el = h(
    'section',
    { class: 'card narrow wiped', 'data-screen': 'wiped', role: 'alert' },
    title,
    tx('p', 'wiped.body', { class: 'intro' }),
  );
  return { el, focus: () => title.focus(), dispose: () => undefined };
}
