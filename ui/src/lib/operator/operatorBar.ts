import type { AppStatus } from '../backend/types';
import { t } from '../i18n';
import { h, tx } from '../ui/dom';

export interface OperatorBar {
  el: HTMLElement;
  lockButton: HTMLButtonElement;
  update(status: AppStatus): void;
}

/** Who works on which device against which registry, and the lock button. */
export function createOperatorBar(status: AppStatus): OperatorBar {
  const operatorName = h('dd', { id: 'operator-name' });
  const deviceId = h('dd', { id: 'device-id', class: 'mono' });
  const registryUrl = h('dd', { id: 'registry-url', class: 'mono' });
  const lockButton = tx('button', 'header.lock', {
    id: 'lock-button',
    type: 'button',
    class: 'btn',
    'data-i18n-title': 'header.lockTitle',
  });
  lockButton.title = t('header.lockTitle');
  const el = h(
    'header',
    { class: 'operator-bar' },
    h(
      'dl',
      {},
      h('div', {}, tx('dt', 'header.operator'), operatorName),
      h('div', {}, tx('dt', 'header.device'), deviceId),
      h('div', {}, tx('dt', 'header.registry'), registryUrl),
    ),
    lockButton,
  );
  const update = (s: AppStatus): void => {
    operatorName.textContent = s.operatorName ?? '';
    deviceId.textContent = s.deviceId ?? '';
    registryUrl.textContent = s.registryUrl ?? '';
    registryUrl.classList.toggle('is-empty', !s.registryUrl);
    registryUrl.title = s.registryUrl ?? '';
  };
  update(status);
  return { el, lockButton, update };
}
