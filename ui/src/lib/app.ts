import { toAppError, type Backend } from './backend/backend';
import type { AppError, AppStatus } from './backend/types';
import { mainScreen } from './enrollment/mainScreen';
import { getLang, setLang, storedLang, t } from './i18n';
import { setupScreen } from './operator/setup';
import { unlockScreen } from './operator/unlock';
import type { Screen, ScreenContext } from './screen';
import { createBanner } from './ui/banner';
import { h, tx } from './ui/dom';

export interface AppOptions {
  /** Shows a notice that the data is fake (browser without Tauri). */
  demo?: boolean;
}

export interface App {
  status(): AppStatus | null;
  dispose(): void;
}

/** Builds the shell in root, reads the status and shows the matching screen. */
export async function startApp(root: HTMLElement, backend: Backend, opts: AppOptions = {}): Promise<App> {
  const bannerEl = h('div', { id: 'banner', class: 'banner', role: 'status', 'aria-live': 'polite' });
  const langToggle = h('button', {
    id: 'lang-toggle',
    type: 'button',
    class: 'btn btn-quiet',
    'data-i18n': 'lang.toggle',
    'data-i18n-title': 'lang.toggleTitle',
    'data-i18n-aria-label': 'lang.toggleTitle',
  });
  const host = h('main', { class: 'screen-host' });
  const shell = h(
    'div',
    { class: 'app' },
    h(
      'header',
      { class: 'app-header' },
      h('div', { class: 'brand' }, tx('span', 'app.title', { class: 'app-title' }), tx('span', 'app.subtitle', { class: 'app-subtitle' })),
      opts.demo ? tx('p', 'app.devMode', { class: 'dev-note' }) : null,
      langToggle,
    ),
    bannerEl,
    host,
  );
  root.replaceChildren(shell);
  const banner = createBanner(bannerEl);

  let status: AppStatus | null = null;
  let screen: Screen | null = null;
  let disposed = false;

  const refresh = async (): Promise<void> => {
    try {
      show(await backend.appStatus());
    } catch (e) {
      banner.error(toAppError(e));
    }
  };

  const handleError = (err: AppError): void => {
    banner.error(err);
    if (err.code === 'locked' || err.code === 'notProvisioned' || err.code === 'alreadySetUp') {
      void refresh().then(() => banner.error(err));
    }
  };

  function show(next: AppStatus): void {
    if (disposed) return;
    const prev = status;
    status = next;
    if (next.language !== getLang()) setLang(next.language);
    if (screen && prev && prev.state === next.state) {
      screen.update?.(next);
      return;
    }
    screen?.dispose();
    banner.clear();
    const ctx: ScreenContext = {
      backend,
      banner,
      status: next,
      setStatus: show,
      handleError,
    };
    screen =
      next.state === 'needsSetup' ? setupScreen(ctx) : next.state === 'locked' ? unlockScreen(ctx) : mainScreen(ctx);
    host.replaceChildren(screen.el);
    screen.focus();
  }

  langToggle.addEventListener('click', () => {
    const lang = getLang() === 'vi' ? 'en' : 'vi';
    setLang(lang);
    banner.clear();
    backend.setLanguage(lang).then(show, (e: unknown) => banner.error(toAppError(e)));
  });

  // Language: the one saved on this machine wins; the backend is told so
  // that its messages come in the same language.
  const saved = storedLang();
  setLang(saved ?? 'vi');
  try {
    let first = await backend.appStatus();
    if (saved && saved !== first.language) {
      try {
        first = await backend.setLanguage(saved);
      } catch {
        // keep the backend's language
      }
    }
    show(first);
  } catch (e) {
    const err = toAppError(e);
    banner.show('error', err.message || t('app.startFailed'));
  }

  return {
    status: () => status,
    dispose() {
      disposed = true;
      screen?.dispose();
      screen = null;
    },
  };
}
