import { toAppError, type Backend } from '../backend/backend';
import type { AppError, EnrollmentState, EnrollmentSummary } from '../backend/types';
import { getLang, t, type MessageKey } from '../i18n';
import type { Banner } from '../ui/banner';
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
  /** Where the outcome of a discard is told. */
  banner: Banner;
  /** The draft being edited (highlighted). */
  currentId(): string | null;
  /** A draft row was chosen. */
  onOpen(id: string): void;
  /** A decision on a refused record changed what the device holds (the sync counts follow). */
  onChanged(): void;
  /** redo_rejected made draft id from the refused record of name; reason: why it was refused. */
  onRedone(id: string, name: string, reason: string): void;
  handleError(err: AppError): void;
}

/** What the confirm dialog asks about. */
type Decision = 'discard' | 'redo';

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
    h('p', { class: 'reason-advice' }),
    h('p', { class: 'reason-code' }),
    h(
      'div',
      { class: 'row-actions' },
      tx('button', 'list.redo', { type: 'button', class: 'btn btn-redo', 'data-action': 'redo' }),
      tx('button', 'list.discard', { type: 'button', class: 'btn btn-quiet btn-discard', 'data-action': 'discard' }),
    ),
  );
}

/** A purged row that still names a refusal was discarded, not purged after acceptance. */
function isDiscarded(e: EnrollmentSummary): boolean {
  return e.state === 'purged' && (e.reasonCode ?? e.reason) !== null;
}

function displayName(e: EnrollmentSummary): string {
  return e.birthName.trim() || t('list.noName');
}

function setText(row: Element, selector: string, text: string): void {
  const el = row.querySelector(selector);
  if (el && el.textContent !== text) el.textContent = text;
}

function fillRow(row: HTMLLIElement, e: EnrollmentSummary, current: string | null): void {
  row.dataset['enrollmentId'] = e.id;
  row.dataset['state'] = e.state;
  const discarded = isDiscarded(e);
  row.dataset['discarded'] = String(discarded);
  // A purged row has no name left on this device: say why instead of "no name yet".
  const noName = discarded ? t('list.discardedName') : e.state === 'purged' ? t('list.purgedName') : t('list.noName');
  setText(row, '.name', e.birthName.trim() || noName);
  row.querySelector('.name')?.classList.toggle('is-placeholder', e.birthName.trim() === '');
  setText(row, '.personal-id', e.personalId);
  setText(row, '.state-label', discarded ? t('state.discarded') : stateLabel(e.state));
  row.querySelector('.state-label')?.setAttribute('data-state', e.state);
  setText(row, '.receipt-id', e.receiptId ?? '');
  row.querySelector('.receipt')?.classList.toggle('is-empty', !e.receiptId);
  const reason = e.reason ? `${t('list.reason')} ${e.reason}` : '';
  setText(row, '.reason', reason);
  row.querySelector('.reason')?.classList.toggle('is-empty', reason === '');
  const rejected = e.state === 'rejected';
  const advice = rejected ? (e.reasonAdvice ?? '') : '';
  setText(row, '.reason-advice', advice);
  row.querySelector('.reason-advice')?.classList.toggle('is-empty', advice === '');
  const code = e.reasonCode ? t('list.reasonCode', { code: e.reasonCode }) : '';
  setText(row, '.reason-code', code);
  row.querySelector('.reason-code')?.classList.toggle('is-empty', code === '');
  // Only a refused record waits for a decision; correcting it only when the core says it helps.
  const actions = row.querySelector<HTMLElement>('.row-actions');
  if (actions) actions.hidden = !rejected;
  const redo = row.querySelector<HTMLElement>('.btn-redo');
  if (redo) redo.hidden = !(rejected && e.canCorrect);
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
  const confirmTitle = h('h3', { id: 'confirm-title', class: 'confirm-title' });
  const confirmText = h('p', { id: 'confirm-text', class: 'confirm-text' });
  const confirmYes = h('button', { type: 'button', id: 'confirm-yes', class: 'btn btn-primary btn-danger' });
  const confirmNo = tx('button', 'confirm.cancel', { type: 'button', id: 'confirm-no', class: 'btn btn-quiet' });
  const dialog = h(
    'div',
    {
      id: 'confirm-dialog',
      class: 'confirm-dialog',
      // Inline above the list, not modal: the question names its record and the list stays readable.
      role: 'alertdialog',
      'aria-labelledby': 'confirm-title',
      'aria-describedby': 'confirm-text',
      hidden: true,
    },
    confirmTitle,
    confirmText,
    h('div', { class: 'confirm-actions' }, confirmYes, confirmNo),
  );
  const el = h(
    'section',
    { class: 'card enrollment-list-card' },
    tx('h2', 'list.title', { id: 'list-title' }),
    dialog,
    empty,
    ul,
  );

  let items: EnrollmentSummary[] = [];
  let inFlight: Promise<void> | null = null;
  let again = false;
  let timer: ReturnType<typeof setInterval> | null = null;
  let disposed = false;
  let lastErrorCode: string | null = null;

  const render = (): void => {
    renderDialog();
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

  // The open question: which record, which decision, and the button that asked (focus returns there).
  let asking: { id: string; decision: Decision; from: HTMLElement | null } | null = null;
  let deciding = false;

  const renderDialog = (): void => {
    if (!asking) return;
    const e = items.find((x) => x.id === asking?.id);
    const name = e ? displayName(e) : '';
    const discard = asking.decision === 'discard';
    // Re-rendered at every poll: only a change (language, name) touches the DOM.
    const set = (el: HTMLElement, text: string): void => {
      if (el.textContent !== text) el.textContent = text;
    };
    set(confirmTitle, t(discard ? 'confirm.discardTitle' : 'confirm.redoTitle'));
    set(confirmText, t(discard ? 'confirm.discardText' : 'confirm.redoText', { name }));
    set(confirmYes, t(discard ? 'confirm.discardYes' : 'confirm.redoYes'));
    confirmYes.dataset['action'] = asking.decision;
    set(confirmNo, t('confirm.cancel'));
  };

  const closeDialog = (): void => {
    const from = asking?.from ?? null;
    asking = null;
    dialog.hidden = true;
    delete dialog.dataset['enrollmentId'];
    if (from?.isConnected && !from.closest('[hidden]')) from.focus();
  };

  const ask = (id: string, decision: Decision, from: HTMLElement | null): void => {
    if (deciding) return;
    asking = { id, decision, from };
    dialog.dataset['enrollmentId'] = id;
    renderDialog();
    dialog.hidden = false;
    // The safe answer has the focus: Enter on a stray key press keeps the record.
    confirmNo.focus();
  };

  const decide = async (): Promise<void> => {
    if (!asking || deciding) return;
    const { id, decision } = asking;
    const e = items.find((x) => x.id === id);
    const name = e ? displayName(e) : '';
    const reason = e?.reason ?? '';
    deciding = true;
    confirmYes.disabled = true;
    confirmNo.disabled = true;
    try {
      if (decision === 'discard') {
        await opts.backend.discardRejected(id);
        if (disposed) return;
        closeDialog();
        opts.banner.show('info', t('list.discarded', { name }));
        opts.onChanged();
      } else {
        const draft = await opts.backend.redoRejected(id);
        if (disposed) return;
        closeDialog();
        opts.onRedone(draft, name, reason);
        opts.onChanged();
      }
    } catch (err) {
      if (disposed) return;
      closeDialog();
      // The core's message, already in the operator's language.
      opts.handleError(toAppError(err));
    } finally {
      deciding = false;
      confirmYes.disabled = false;
      confirmNo.disabled = false;
      if (!disposed) void refresh();
    }
  };

  confirmYes.addEventListener('click', () => void decide());
  confirmNo.addEventListener('click', () => {
    if (!deciding) closeDialog();
  });
  dialog.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && !deciding) {
      ev.preventDefault();
      closeDialog();
    }
  });

  const openFrom = (target: EventTarget | null): void => {
    if (!(target instanceof Element)) return;
    const row = target.closest<HTMLLIElement>('li[data-enrollment-id]');
    const id = row?.dataset['enrollmentId'];
    if (!row || !id) return;
    const action = target.closest<HTMLElement>('button[data-action]');
    if (action) {
      if (row.dataset['state'] === 'rejected') ask(id, action.dataset['action'] === 'redo' ? 'redo' : 'discard', action);
      return;
    }
    if (row.dataset['state'] === 'draft') opts.onOpen(id);
  };
  ul.addEventListener('click', (ev) => openFrom(ev.target));
  ul.addEventListener('keydown', (ev) => {
    // A button activates itself on Enter and Space.
    if (ev.target instanceof HTMLButtonElement) return;
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
