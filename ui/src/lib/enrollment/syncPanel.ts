import type { Backend } from '../backend/backend';
import type { SyncStatus } from '../backend/types';
import { t } from '../i18n';
import { h, tx } from '../ui/dom';

export const SYNC_POLL_INTERVAL_MS = 2000;

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** "HH:MM dd/mm/yyyy" in the machine's local time (the same in both languages). */
export function formatStamp(rfc3339: string): string {
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime())) return rfc3339;
  return `${pad(d.getHours())}:${pad(d.getMinutes())} ${pad(d.getDate())}/${pad(d.getMonth() + 1)}/${d.getFullYear()}`;
}

/** "HH:MM:SS": a retry is seconds away, the minute alone says too little. */
function formatClock(rfc3339: string): string {
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime())) return rfc3339;
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export interface SyncPanel {
  el: HTMLElement;
  refresh(): Promise<void>;
  /** Polls sync_status every SYNC_POLL_INTERVAL_MS until dispose. */
  start(): void;
  /** Re-renders the chrome text (language change). */
  render(): void;
  dispose(): void;
}

/**
 * The sync panel of the main screen: last contact with the registry, what waits, what was
 * delivered or refused, whether a bundle is being sent or when the next try is, and why the
 * last attempt failed (the core's words, already localized).
 */
export function createSyncPanel(backend: Backend): SyncPanel {
  const lastContact = h('p', { id: 'sync-last-contact', class: 'sync-last-contact' });
  const waiting = h('p', { id: 'sync-waiting', class: 'sync-waiting' });
  const counts = h('p', { id: 'sync-counts', class: 'sync-counts' });
  const activity = h('p', { id: 'sync-activity', class: 'sync-activity' });
  const error = h('p', { id: 'sync-error', class: 'sync-error', role: 'status' });
  const el = h(
    'section',
    { id: 'sync-panel', class: 'card sync-panel', 'aria-labelledby': 'sync-title', 'aria-live': 'polite' },
    tx('h2', 'sync.title', { id: 'sync-title' }),
    lastContact,
    waiting,
    activity,
    counts,
    error,
  );

  let status: SyncStatus | null = null;
  let timer: ReturnType<typeof setInterval> | null = null;
  let inFlight = false;
  let disposed = false;

  const set = (node: HTMLElement, text: string): void => {
    if (node.textContent !== text) node.textContent = text;
  };

  const render = (): void => {
    el.hidden = status === null;
    if (status === null) return;
    const s = status;
    el.dataset['waiting'] = String(s.waiting);
    el.dataset['uploading'] = String(s.uploading);
    el.dataset['error'] = s.lastError?.code ?? '';
    set(lastContact, t('sync.lastContact', { time: s.lastContactAt ? formatStamp(s.lastContactAt) : t('sync.never') }));
    lastContact.dataset['at'] = s.lastContactAt ?? '';
    set(waiting, t('sync.waiting', { n: String(s.waiting) }));
    let now = '';
    if (s.uploading) now = t('sync.sending');
    else if (s.waiting > 0 && s.budgetUntilAt) now = t('sync.budgetSpent', { time: formatStamp(s.budgetUntilAt) });
    else if (s.waiting > 0 && s.offline && s.nextRetryAt) now = t('sync.offline', { time: formatClock(s.nextRetryAt) });
    else if (s.waiting > 0 && s.nextRetryAt) now = t('sync.nextRetry', { time: formatClock(s.nextRetryAt) });
    else if (s.waiting === 0) now = t('sync.nothingWaiting');
    set(activity, now);
    const parts = [t('sync.delivered', { n: String(s.delivered) }), t('sync.rejected', { n: String(s.rejected) })];
    if (s.custody > 0) parts.push(t('sync.custody', { n: String(s.custody) }));
    if (s.discarded > 0) parts.push(t('sync.discarded', { n: String(s.discarded) }));
    set(counts, parts.join(' · '));
    const err = s.lastError
      ? t('sync.lastError', { time: s.lastAttemptAt ? formatStamp(s.lastAttemptAt) : '—', message: s.lastError.message })
      : '';
    set(error, err);
    error.hidden = err === '';
  };

  const refresh = async (): Promise<void> => {
    if (inFlight) return;
    inFlight = true;
    try {
      const next = await backend.syncStatus();
      if (disposed) return;
      status = next;
      render();
    } catch {
      // The status poll (app_status) follows a lock or a wipe; the panel keeps what it showed.
    } finally {
      inFlight = false;
    }
  };

  render();
  return {
    el,
    refresh,
    start() {
      if (timer === null && !disposed) {
        void refresh();
        timer = setInterval(() => void refresh(), SYNC_POLL_INTERVAL_MS);
      }
    },
    render,
    dispose() {
      disposed = true;
      if (timer !== null) clearInterval(timer);
      timer = null;
    },
  };
}
