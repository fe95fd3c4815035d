import { toAppError } from '../backend/backend';
import { t } from '../i18n';
import type { Screen, ScreenContext } from '../screen';
import { field, h, showFieldErrors, tx } from '../ui/dom';
import { createOperatorBar } from './operatorBar';

const FIELDS = ['current', 'passphrase', 'passphraseConfirm'] as const;

/** "Đổi cụm mật khẩu": the signed-in account's own passphrase (current, new, new again). */
export function passphraseScreen(ctx: ScreenContext): Screen {
  const bar = createOperatorBar(ctx, 'passphrase');
  const current = h('input', { type: 'password', autocomplete: 'current-password', required: true });
  const pass = h('input', { type: 'password', autocomplete: 'new-password', required: true });
  const pass2 = h('input', { type: 'password', autocomplete: 'new-password', required: true });
  const controls = { current, passphrase: pass, passphraseConfirm: pass2 };
  const submit = tx('button', 'passphrase.submit', { id: 'passphrase-submit', type: 'submit', class: 'btn btn-primary' });
  const back = tx('button', 'common.back', { type: 'button', class: 'btn' });
  const form = h(
    'form',
    { class: 'card narrow', novalidate: true, 'aria-labelledby': 'passphrase-title' },
    tx('h1', 'passphrase.title', { id: 'passphrase-title' }),
    tx('p', 'passphrase.intro', { class: 'intro' }),
    field({ id: 'passphrase-current', name: 'current', label: 'passphrase.current', control: current }),
    field({ id: 'passphrase-new', name: 'passphrase', label: 'passphrase.new', control: pass, hint: 'setup.passHint' }),
    field({ id: 'passphrase-new2', name: 'passphraseConfirm', label: 'passphrase.new2', control: pass2 }),
    h('div', { class: 'actions' }, submit, back),
  );
  const el = h('section', { class: 'main-screen', 'data-screen': 'passphrase' }, bar.el, form);

  let busy = false;
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (busy) return;
    busy = true;
    form.setAttribute('aria-busy', 'true');
    ctx.banner.clear();
    ctx.backend
      .changePassphrase(current.value, pass.value, pass2.value)
      .then(
        () => {
          for (const c of [current, pass, pass2]) c.value = '';
          showFieldErrors(form, [], FIELDS);
          ctx.banner.show('info', t('passphrase.done'));
          current.focus();
        },
        (e: unknown) => {
          const err = toAppError(e);
          const errors = err.fieldErrors ?? [];
          showFieldErrors(form, errors, FIELDS);
          ctx.handleError(err);
          // A wrong current passphrase is the current field's problem.
          if (err.code === 'wrongPassphrase') current.setAttribute('aria-invalid', 'true');
          const first = FIELDS.find((f) => errors.some((x) => x.field === f));
          const target = first ? controls[first] : err.code === 'passphraseInUse' ? pass : current;
          target.focus();
          target.select();
        },
      )
      .finally(() => {
        busy = false;
        form.removeAttribute('aria-busy');
      });
  });
  back.addEventListener('click', () => ctx.navigate('main'));

  return {
    el,
    focus: () => current.focus(),
    update: (status) => bar.update(status),
    dispose: () => undefined,
  };
}
