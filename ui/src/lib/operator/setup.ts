import { toAppError } from '../backend/backend';
import type { Screen, ScreenContext } from '../screen';
import { field, h, showFieldErrors, tx } from '../ui/dom';

const FIELDS = ['name', 'passphrase', 'passphraseConfirm'] as const;

/** First run: create the operator account (needsSetup). */
export function setupScreen(ctx: ScreenContext): Screen {
  const name = h('input', { type: 'text', autocomplete: 'name', spellcheck: 'false', required: true });
  const pass = h('input', { type: 'password', autocomplete: 'new-password', required: true });
  const pass2 = h('input', { type: 'password', autocomplete: 'new-password', required: true });
  const submit = tx('button', 'setup.submit', { id: 'setup-submit', type: 'submit', class: 'btn btn-primary' });
  const controls = { name, passphrase: pass, passphraseConfirm: pass2 };

  const form = h(
    'form',
    { class: 'card narrow', 'data-screen': 'setup', novalidate: true },
    tx('h1', 'setup.title'),
    tx('p', 'setup.intro', { class: 'intro' }),
    field({ id: 'setup-name', name: 'name', label: 'setup.name', control: name }),
    field({ id: 'setup-pass', name: 'passphrase', label: 'setup.pass', control: pass, hint: 'setup.passHint' }),
    field({ id: 'setup-pass2', name: 'passphraseConfirm', label: 'setup.pass2', control: pass2 }),
    h('div', { class: 'actions' }, submit),
  );

  let busy = false;
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (busy) return;
    busy = true;
    form.setAttribute('aria-busy', 'true');
    ctx.backend
      .createOperator(name.value, pass.value, pass2.value)
      .then(
        (status) => ctx.setStatus(status),
        (e: unknown) => {
          const err = toAppError(e);
          const errors = err.fieldErrors ?? [];
          showFieldErrors(form, errors, FIELDS);
          ctx.handleError(err);
          const first = FIELDS.find((f) => errors.some((x) => x.field === f));
          (first ? controls[first] : name).focus();
        },
      )
      .finally(() => {
        busy = false;
        form.removeAttribute('aria-busy');
      });
  });

  return {
    el: form,
    focus: () => name.focus(),
    dispose: () => undefined,
  };
}
