import { toAppError } from '../backend/backend';
import { onLangChange } from '../i18n';
import { createOperatorBar } from '../operator/operatorBar';
import type { Screen, ScreenContext } from '../screen';
import { h } from '../ui/dom';
import { createEnrollmentForm } from './form';
import { createEnrollmentList } from './list';

/** The working screen: operator bar, enrollment form and the list of records. */
export function mainScreen(ctx: ScreenContext): Screen {
  const bar = createOperatorBar(ctx.status);
  // eslint-disable-next-line prefer-const -- form and list refer to each other
  let list: ReturnType<typeof createEnrollmentList>;
  const form = createEnrollmentForm({
    backend: ctx.backend,
    banner: ctx.banner,
    handleError: ctx.handleError,
    onChanged: () => {
      list.render();
      void list.refresh();
    },
  });
  list = createEnrollmentList({
    backend: ctx.backend,
    currentId: () => form.draftId(),
    onOpen: (id) => void form.load(id),
    handleError: ctx.handleError,
  });

  const el = h('section', { class: 'main-screen', 'data-screen': 'main' }, bar.el, h('div', { class: 'main-layout' }, form.el, list.el));

  let locking = false;
  bar.lockButton.addEventListener('click', () => {
    if (locking) return;
    locking = true;
    form
      .flush()
      .catch(() => undefined)
      .then(() => ctx.backend.lock())
      .then(ctx.setStatus, (e: unknown) => ctx.handleError(toAppError(e)))
      .finally(() => {
        locking = false;
      });
  });

  const onKey = (ev: KeyboardEvent): void => {
    if (!(ev.ctrlKey || ev.metaKey) || ev.altKey) return;
    if (ev.key === 's' || ev.key === 'S') {
      ev.preventDefault();
      void form.save();
    } else if (ev.key === 'Enter') {
      ev.preventDefault();
      void form.finalise();
    }
  };
  document.addEventListener('keydown', onKey);
  const offLang = onLangChange(() => {
    form.relabel();
    list.render();
  });
  let backendLang = ctx.status.language;
  list.start();

  return {
    el,
    focus: () => form.focus(),
    update: (status) => {
      bar.update(status);
      if (status.language !== backendLang) {
        backendLang = status.language;
        form.revalidate();
      }
    },
    dispose() {
      document.removeEventListener('keydown', onKey);
      offLang();
      form.dispose();
      list.dispose();
    },
  };
}
