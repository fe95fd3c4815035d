import { toAppError } from '../backend/backend';
import type { AppStatus, Role } from '../backend/types';
import { t, type MessageKey } from '../i18n';
import type { ScreenContext, View } from '../screen';
import { h, tx } from '../ui/dom';

export interface OperatorBar {
  el: HTMLElement;
  lockButton: HTMLButtonElement;
  update(status: AppStatus): void;
}

const ROLE_KEYS: Record<Role, MessageKey> = { operator: 'role.operator', supervisor: 'role.supervisor' };

export function roleLabel(role: Role | null): string {
  return role ? t(ROLE_KEYS[role]) : '';
}

/**
 * Who works on which device against which registry; the screens of the session
 * (records, own passphrase, accounts for supervisors) and the lock button.
 * beforeLeave runs before a lock or a screen change (the main screen saves the
 * draft being typed).
 */
export function createOperatorBar(ctx: ScreenContext, current: View, beforeLeave?: () => Promise<void>): OperatorBar {
  const leave = (): Promise<void> => (beforeLeave ? beforeLeave().catch(() => undefined) : Promise.resolve());
  const operatorName = h('dd', { id: 'operator-name' });
  const role = h('dd', { id: 'operator-role' });
  const deviceId = h('dd', { id: 'device-id', class: 'mono' });
  const registryUrl = h('dd', { id: 'registry-url', class: 'mono' });
  const lockButton = tx('button', 'header.lock', {
    id: 'lock-button',
    type: 'button',
    class: 'btn',
    'data-i18n-title': 'header.lockTitle',
  });
  lockButton.title = t('header.lockTitle');

  const navButton = (view: View, key: MessageKey): HTMLButtonElement => {
    const b = tx('button', key, { type: 'button', class: 'btn btn-quiet', 'data-view': view });
    if (view === current) b.setAttribute('aria-current', 'page');
    b.addEventListener('click', () => {
      if (view !== current) void leave().then(() => ctx.navigate(view));
    });
    return b;
  };
  const operatorsButton = navButton('operators', 'header.operators');
  const nav = h(
    'nav',
    { class: 'session-nav', 'data-i18n-aria-label': 'header.nav', 'aria-label': t('header.nav') },
    navButton('main', 'header.enrollments'),
    navButton('passphrase', 'header.changePassphrase'),
    operatorsButton,
  );

  const el = h(
    'header',
    { class: 'operator-bar' },
    h(
      'dl',
      {},
      h('div', {}, tx('dt', 'header.operator'), operatorName),
      h('div', {}, tx('dt', 'header.role'), role),
      h('div', {}, tx('dt', 'header.device'), deviceId),
      h('div', {}, tx('dt', 'header.registry'), registryUrl),
    ),
    nav,
    lockButton,
  );

  let locking = false;
  lockButton.addEventListener('click', () => {
    if (locking) return;
    locking = true;
    ctx.lockRequested();
    leave()
      .then(() => ctx.backend.lock())
      .then(ctx.setStatus, (e: unknown) => ctx.handleError(toAppError(e)))
      .finally(() => {
        locking = false;
      });
  });

  const update = (s: AppStatus): void => {
    operatorName.textContent = s.operatorName ?? '';
    role.textContent = roleLabel(s.role);
    role.dataset['role'] = s.role ?? '';
    deviceId.textContent = s.deviceId ?? '';
    registryUrl.textContent = s.registryUrl ?? '';
    registryUrl.classList.toggle('is-empty', !s.registryUrl);
    registryUrl.title = s.registryUrl ?? '';
    // Only supervisors manage accounts; the core refuses the others anyway.
    operatorsButton.hidden = s.role !== 'supervisor';
  };
  update(ctx.status);
  return { el, lockButton, update };
}
