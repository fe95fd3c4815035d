import { toAppError } from '../backend/backend';
import type { AppStatus } from '../backend/types';
import { onLangChange, t } from '../i18n';
import type { Screen, ScreenContext } from '../screen';
import { field, h, tx } from '../ui/dom';

/** The app is locked: ask for a passphrase (it names the account it opens). */
export function unlockScreen(ctx: ScreenContext): Screen {
  const pass = h('input', { type: 'password', autocomplete: 'current-password', required: true });
  const operator = h('strong', { class: 'operator' }, ctx.status.operatorName ?? '');
  const who = h('p', { class: 'who' }, tx('span', 'unlock.operator'), ' ', operator);
  who.hidden = !ctx.status.operatorName;
  const submit = tx('button', 'unlock.submit', { id: 'unlock-submit', type: 'submit', class: 'btn btn-primary' });
  // The rate limit's countdown: one polite live region, so a screen reader hears it once
  // per change of sentence, not every second (aria-atomic keeps it whole).
  const wait = h('p', { id: 'unlock-wait', class: 'wait-notice', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' });
  const form = h(
    'form',
    { class: 'card narrow', 'data-screen': 'unlock', novalidate: true },
    tx('h1', 'unlock.title'),
    tx('p', 'unlock.intro', { class: 'intro' }),
    who,
    field({ id: 'unlock-pass', name: 'passphrase', label: 'unlock.pass', control: pass }),
    wait,
    h('div', { class: 'actions' }, submit),
  );

  let busy = false;
  /** Seconds left of the rate limit's wait (0: none). */
  let waitLeft = 0;
  let waitTimer: ReturnType<typeof setInterval> | null = null;

  const renderWait = (): void => {
    wait.textContent = waitLeft > 0 ? t('unlock.wait', { secs: String(waitLeft) }) : wait.textContent ? t('unlock.ready') : '';
    wait.dataset['waiting'] = waitLeft > 0 ? 'true' : 'false';
    if (waitLeft > 0) submit.setAttribute('aria-disabled', 'true');
    else submit.removeAttribute('aria-disabled');
  };
  const stopWait = (): void => {
    if (waitTimer !== null) clearInterval(waitTimer);
    waitTimer = null;
  };
  const startWait = (secs: number): void => {
    stopWait();
    waitLeft = secs;
    renderWait();
    waitTimer = setInterval(() => {
      waitLeft = Math.max(0, waitLeft - 1);
      renderWait();
      if (waitLeft === 0) stopWait();
    }, 1000);
  };

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    // Trying during the wait would only be refused again (and, with the wrong
    // passphrase, make the next wait longer).
    if (busy || waitLeft > 0) return;
    busy = true;
    form.setAttribute('aria-busy', 'true');
    ctx.backend
      .unlock(pass.value)
      .then(
        (status) => ctx.setStatus(status),
        (e: unknown) => {
          const err = toAppError(e);
          ctx.handleError(err);
          if (err.code === 'tooManyAttempts' && err.retryAfterSecs !== undefined && err.retryAfterSecs > 0) {
            startWait(err.retryAfterSecs);
          }
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
  const offLang = onLangChange(renderWait);

  return {
    el: form,
    focus: () => pass.focus(),
    update: (status: AppStatus) => {
      operator.textContent = status.operatorName ?? '';
      who.hidden = !status.operatorName;
    },
    dispose: () => {
      stopWait();
      offLang();
    },
  };
}
