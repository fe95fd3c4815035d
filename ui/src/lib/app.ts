import { toAppError, type Backend } from './backend/backend';
import type { AppError, AppStatus } from './backend/types';
import { mainScreen } from './enrollment/mainScreen';
import { getLang, setLang, storedLang, t } from './i18n';
import { operatorsScreen } from './operator/operators';
import { passphraseScreen } from './operator/passphrase';
import { setupScreen } from './operator/setup';
import { unlockScreen } from './operator/unlock';
import { wipedScreen } from './operator/wiped';
import type { Screen, ScreenContext, View } from './screen';
import { createBanner } from './ui/banner';
import { h, tx } from './ui/dom';

/**
 * How often an open session asks for the status: the core locks an idle session on its
 * own (and wipes a revoked device), and the UI must follow. app_status does not count
 * as activity, so this poll never keeps a session open.
 */
export const STATUS_POLL_MS = 2000;

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
  // A vault that does not open (damaged, foreign): what happened and what to do, beside the
  // core's message on the banner, until the screen changes (a successful unlock).
  const vaultNotice = h(
    'section',
    { id: 'vault-corrupt', class: 'card vault-corrupt', role: 'alert', 'aria-labelledby': 'vault-corrupt-title', hidden: true },
    tx('h2', 'vaultCorrupt.title', { id: 'vault-corrupt-title' }),
    tx('p', 'vaultCorrupt.body', { id: 'vault-corrupt-body' }),
  );
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
    vaultNotice,
    host,
  );
  root.replaceChildren(shell);
  const banner = createBanner(bannerEl);

  let status: AppStatus | null = null;
  let screen: Screen | null = null;
  let view: View = 'main';
  let disposed = false;
  /** The operator pressed the lock button (a lock without it was the idle timer). */
  let lockAsked = false;
  /** The unlock screen shows the idle-lock notice. */
  let idleNotice = false;
  /** The draft open when the main screen last went, and whose it was. */
  let lastDraft: { id: string; operatorId: string | null } | null = null;

  /** The banner shows the core's message; a vault that does not open also gets its notice. */
  const showError = (err: AppError): void => {
    banner.error(err);
    if (err.code === 'vaultCorrupt') vaultNotice.hidden = false;
  };

  const refresh = async (): Promise<void> => {
    try {
      show(await backend.appStatus());
    } catch (e) {
      showError(toAppError(e));
    }
  };

  const handleError = (err: AppError): void => {
    showError(err);
    if (err.code === 'locked' || err.code === 'wiped' || err.code === 'notProvisioned' || err.code === 'alreadySetUp') {
      void refresh().then(() => {
        // The screen that came says it better: the idle-lock notice, the wiped screen.
        if (err.code === 'locked' && idleNotice) return;
        if (status?.state === 'wiped') return;
        banner.error(err);
      });
    }
  };

  const buildScreen = (ctx: ScreenContext): Screen => {
    switch (ctx.status.state) {
      case 'needsSetup':
        return setupScreen(ctx);
      case 'locked':
        return unlockScreen(ctx);
      case 'wiped':
        return wipedScreen();
      case 'unlocked':
        return view === 'passphrase'
          ? passphraseScreen(ctx)
          : view === 'operators' && ctx.status.role === 'supervisor'
            ? operatorsScreen(ctx)
            : mainScreen(ctx);
    }
  };

  function render(next: AppStatus): void {
    screen?.dispose();
    banner.clear();
    vaultNotice.hidden = true;
    const ctx: ScreenContext = {
      backend,
      banner,
      status: next,
      setStatus: show,
      handleError,
      navigate(to) {
        if (disposed || status?.state !== 'unlocked') return;
        view = to;
        render(status);
      },
      lockRequested() {
        lockAsked = true;
      },
      rememberDraft(id) {
        lastDraft = id === null ? null : { id, operatorId: status?.operatorId ?? next.operatorId };
      },
      resumeDraft() {
        // Only the operator who left it: another one signing in starts with an empty form.
        return lastDraft !== null && lastDraft.operatorId === next.operatorId ? lastDraft.id : null;
      },
    };
    screen = buildScreen(ctx);
    host.replaceChildren(screen.el);
    screen.focus();
  }

  function show(next: AppStatus): void {
    if (disposed) return;
    const prev = status;
    status = next;
    if (next.language !== getLang()) setLang(next.language);
    if (screen && prev && prev.state === next.state && prev.operatorId === next.operatorId) {
      screen.update?.(next);
      return;
    }
    if (next.state !== 'unlocked') view = 'main';
    const idleLocked = prev?.state === 'unlocked' && next.state === 'locked' && !lockAsked;
    lockAsked = false;
    render(next);
    idleNotice = idleLocked;
    if (idleLocked) banner.show('info', t('unlock.idleLocked'));
  }

  // Follows what the core does on its own: the idle lock, a wipe.
  const poll = setInterval(() => {
    if (disposed || status?.state !== 'unlocked') return;
    backend.appStatus().then(
      (next) => {
        if (status?.state === 'unlocked' && next.state !== 'unlocked') show(next);
      },
      () => undefined,
    );
  }, STATUS_POLL_MS);

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
      clearInterval(poll);
      screen?.dispose();
      screen = null;
    },
  };
}
