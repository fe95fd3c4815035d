import { toAppError } from '../backend/backend';
import type { AppStatus } from '../backend/types';
import type { Screen, ScreenContext } from '../screen';
import { field, h, tx } from '../ui/dom';

/** The app is locked: ask for the operator's passphrase. */
export function unlockScreen(ctx: ScreenContext): Screen {
  const pass = h('input', { type: 'password', autocomplete: 'current-password', required: true });
  const operator = h('strong', { class: 'operator' }, ctx.status.operatorName ?? '');
  const form = h(
    'form',
    { class: 'card narrow', 'data-screen': 'unlock', novalidate: true },
    tx('h1', 'unlock.title'),
    tx('p', 'unlock.intro', { class: 'intro' }),
    h('p', { class: 'who' }, tx('span', 'unlock.operator'), ' ', operator),
    field({ id: 'unlock-pass', name: 'passphrase', label: 'unlock.pass', control: pass }),
    h('div', { class: 'actions' }, tx('button', 'unlock.submit', { id: 'unlock-submit', type: 'submit', class: 'btn btn-primary' })),
  );

  let busy = false;
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (busy) return;
    busy = true;
    form.setAttribute('aria-busy', 'true');
    ctx.backend
      .unlock(pass.value)
      .then(
        (status) => ctx.setStatus(status),
        (e: unknown) => {
          ctx.handleError(toAppError(e));
          pass.setAttribute('aria-invalid', 'true');
          pass.focus();
          pass.select();
        },
      )
      .finally(() => {
        busy = false;
        form.removeAttribute('aria-busy');
      });
  });
  pass.addEventListener('input', () => pass.removeAttribute('aria-invalid'));

  return {
    el: form,
    focus: () => pass.focus(),
    update: (status: AppStatus) => {
      operator.textContent = status.operatorName ?? '';
    },
    dispose: () => undefined,
  };
}
