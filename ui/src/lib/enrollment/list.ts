import { toAppError, type Backend } from '../backend/backend';
import type { AppError, EnrollmentState, EnrollmentSummary } from '../backend/types';
import { getLang, t, type MessageKey } from '../i18n';
import { h, tx } from '../ui/dom';

export const POLL_INTERVAL_MS = 1000;

const STATE_KEYS: Record<EnrollmentState, MessageKey> = {
  draft: 'state.draft',
  finalised: 'state.finalised',
  approved: 'state.approved',
  sealed: 'state.sealed',
  uploading: 'state.uploading',
  custody: 'state.custody',
  accepted: 'state.accepted',
  rejected: 'state.rejected',
  purged: 'state.purged',
};

export function stateLabel(state: EnrollmentState): string {
  const key = STATE_KEYS[state] as MessageKey | undefined;
  return key ? t(key) : state;
}

export interface EnrollmentListOptions {
  backend: Backend;
  /** The draft being edited (highlighted). */
  currentId(): string | null;
  /** A draft row was chosen. */
  onOpen(id: string): void;
  handleError(err: AppError): void;
}

export interface EnrollmentList {
  el: HTMLElement;
  refresh(): Promise<void>;
  /** Polls list_enrollments every POLL_INTERVAL_MS until dispose. */
  start(): void;
  /** Re-renders labels (language change) and the highlight. */
  render(): void;
  dispose(): void;
}

function formatTime(rfc3339: string): string {
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime())) return rfc3339;
  return d.toLocaleString(getLang() === 'vi' ? 'vi-VN' : 'en-GB', {
    dateStyle: 'short',
    timeStyle: 'short',
  });
}

function buildRow(): HTMLLIElement {
  return h(
    'li',
    { class: 'enrollment-row' },
    h('div', { class: 'row-main' }, h('span', { class: 'name' }), h('span', { class: 'personal-id' })),
    h('span', { class: 'state-label badge' }),
    h(
      'div',
      { class: 'row-meta' },
      h('span', { class: 'receipt' }, tx('span', 'list.receipt', { class: 'meta-label' }), ' ', h('span', { class: 'receipt-id' })),
      h('span', { class: 'updated' }, tx('span', 'list.updated', { class: 'meta-label' }), ' ', h('time', { class: 'updated-at' })),
    ),
    h('p', { class: 'reason' }),
  );
}

function setText(row: Element, selector: string, text: string): void {
  const el = row.querySelector(selector);
  if (el && el.textContent !== text) el.textContent = text;
}

function fillRow(row: HTMLLIElement, e: EnrollmentSummary, current: string | null): void {
  row.dataset['enrollmentId'] = e.id;
  row.dataset['state'] = e.state;
  // A purged row has no name left on this device: say why instead of "no name yet".
  const noName = e.state === 'purged' ? t('list.purgedName') : t('list.noName');
  setText(row, '.name', e.birthName.trim() || noName);
  row.querySelector('.name')?.classList.toggle('is-placeholder', e.birthName.trim() === '');
  setText(row, '.personal-id', e.personalId);
  setText(row, '.state-label', stateLabel(e.state));
  row.querySelector('.state-label')?.setAttribute('data-state', e.state);
  setText(row, '.receipt-id', e.receiptId ?? '');
  row.querySelector('.receipt')?.classList.toggle('is-empty', !e.receiptId);
  const reason = e.state === 'rejected' && e.reason ? `${t('list.reason')} ${e.reason}` : (e.reason ?? '');
  setText(row, '.reason', reason);
  row.querySelector('.reason')?.classList.toggle('is-empty', reason === '');
  setText(row, '.updated-at', formatTime(e.updatedAt));
  row.querySelector('.updated-at')?.setAttribute('datetime', e.updatedAt);
  const isDraft = e.state === 'draft';
  row.classList.toggle('is-draft', isDraft);
  if (isDraft) {
    row.tabIndex = 0;
    row.title = t('list.openDraft');
  } else {
    row.removeAttribute('tabindex');
    row.removeAttribute('title');
  }
  if (current !== null && current === e.id) row.setAttribute('aria-current', 'true');
  else row.removeAttribute('aria-current');
}

export function createEnrollmentList(opts: EnrollmentListOptions): EnrollmentList {
  const ul = h('ul', { id: 'enrollment-list', class: 'enrollment-list', 'aria-labelledby': 'list-title' });
  const empty = tx('p', 'list.empty', { class: 'list-empty' });
  const el = h('section', { class: 'card enrollment-list-card' }, tx('h2', 'list.title', { id: 'list-title' }), empty, ul);

  let items: EnrollmentSummary[] = [];
  let inFlight: Promise<void> | null = null;
  let again = false;
  let timer: ReturnType<typeof setInterval> | null = null;
  let disposed = false;
  let lastErrorCode: string | null = null;

  const render = (): void => {
    const current = opts.currentId();
    const existing = new Map<string, HTMLLIElement>();
    for (const li of ul.querySelectorAll<HTMLLIElement>(':scope > li[data-enrollment-id]')) {
      existing.set(li.dataset['enrollmentId'] ?? '', li);
    }
    let cursor: ChildNode | null = ul.firstChild;
    for (const e of items) {
      let row = existing.get(e.id);
      if (row) existing.delete(e.id);
      else row = buildRow();
      fillRow(row, e, current);
      if (row === cursor) {
        cursor = cursor.nextSibling;
      } else {
        ul.insertBefore(row, cursor);
      }
    }
    for (const gone of existing.values()) gone.remove();
    empty.hidden = items.length > 0;
  };

  const fetchOnce = async (): Promise<void> => {
    try {
      const list = await opts.backend.listEnrollments();
      if (disposed) return;
      items = list;
      lastErrorCode = null;
      render();
    } catch (e) {
      if (disposed) return;
      const err = toAppError(e);
      // Polling must not flood the banner with the same error every second.
      if (err.code !== lastErrorCode || err.code === 'locked') opts.handleError(err);
      lastErrorCode = err.code;
    }
  };

  const refresh = (): Promise<void> => {
    if (inFlight) {
      again = true;
      return inFlight;
    }
    inFlight = (async () => {
      do {
        again = false;
        await fetchOnce();
      } while (again && !disposed);
      inFlight = null;
    })();
    return inFlight;
  };

  const openFrom = (target: EventTarget | null): void => {
    if (!(target instanceof Element)) return;
    const row = target.closest<HTMLLIElement>('li[data-enrollment-id]');
    if (row?.dataset['state'] === 'draft' && row.dataset['enrollmentId']) opts.onOpen(row.dataset['enrollmentId']);
  };
  ul.addEventListener('click', (ev) => openFrom(ev.target));
  ul.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' || ev.key === ' ') {
      if (ev.ctrlKey || ev.metaKey) return;
      ev.preventDefault();
      openFrom(ev.target);
    }
  });

  return {
    el,
    refresh,
    start() {
      if (timer === null && !disposed) {
        void refresh();
        timer = setInterval(() => {
          if (!inFlight) void refresh();
        }, POLL_INTERVAL_MS);
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
