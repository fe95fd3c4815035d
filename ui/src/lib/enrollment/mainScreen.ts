import { onLangChange, t } from '../i18n';
import { createOperatorBar } from '../operator/operatorBar';
import type { Screen, ScreenContext } from '../screen';
import { h } from '../ui/dom';
import { createCapturePanel } from './capture';
import { createEnrollmentForm } from './form';
import { createEnrollmentList } from './list';
import { createSyncPanel } from './syncPanel';

/** The working screen: operator bar, enrollment form and the list of records. */
export function mainScreen(ctx: ScreenContext): Screen {
  const sync = createSyncPanel(ctx.backend);
  // eslint-disable-next-line prefer-const -- form and list refer to each other
  let list: ReturnType<typeof createEnrollmentList>;
  // eslint-disable-next-line prefer-const -- the panel asks the form for its draft
  let form: ReturnType<typeof createEnrollmentForm>;
  const capture = createCapturePanel({
    backend: ctx.backend,
    banner: ctx.banner,
    handleError: ctx.handleError,
    ensureDraft: async () => {
      await form.flush();
      return form.draftId();
    },
  });
  form = createEnrollmentForm({
    backend: ctx.backend,
    banner: ctx.banner,
    handleError: ctx.handleError,
    extra: capture.el,
    onFieldErrors: (errors) => capture.showErrors(errors),
    onChanged: () => {
      list.render();
      void list.refresh();
      void sync.refresh();
      void capture.show(form.draftId());
    },
  });
  list = createEnrollmentList({
    backend: ctx.backend,
    banner: ctx.banner,
    currentId: () => form.draftId(),
    onOpen: (id) => void form.load(id),
    // The new draft opens with the registry's reason on the banner.
    onRedone: (id, name, reason) => void form.load(id, t('list.redone', { name, reason })),
    onChanged: () => void sync.refresh(),
    handleError: ctx.handleError,
  });

  const bar = createOperatorBar(ctx, 'main', () => form.flush());
  const el = h(
    'section',
    { class: 'main-screen', 'data-screen': 'main' },
    bar.el,
    h('div', { class: 'main-layout' }, form.el, h('div', { class: 'side-column' }, sync.el, list.el)),
  );

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
    capture.relabel();
    list.render();
    sync.render();
  });
  let backendLang = ctx.status.language;
  list.start();
  sync.start();
  void capture.show(null);
  // Back from a lock (idle or asked) or another screen: the draft left open opens again.
  const resume = ctx.resumeDraft();
  if (resume !== null) void form.load(resume);

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
      ctx.rememberDraft(form.draftId());
      document.removeEventListener('keydown', onKey);
      offLang();
      form.dispose();
      capture.dispose();
      list.dispose();
      sync.dispose();
    },
  };
}
