import { toAppError, type Backend } from '../backend/backend';
import {
  ENROLLMENT_FIELDS,
  emptyInput,
  type AppError,
  type EnrollmentField,
  type EnrollmentInput,
  type FieldError,
  type Sex,
} from '../backend/types';
import { getLang, t } from '../i18n';
import type { Banner } from '../ui/banner';
import { debounce, field, h, showFieldErrors, tx } from '../ui/dom';

export const VALIDATE_DELAY_MS = 300;
export const AUTOSAVE_DELAY_MS = 1000;
/**
 * While edits keep coming, a save still starts at least this long after the first unsaved
 * one: a crash loses at most the last second of typing (a pure debounce would never save
 * an operator who types without pausing).
 */
export const AUTOSAVE_MAX_WAIT_MS = 1000;
/** How long the "sealed, waiting to be sent" notice stays (unless typing starts first). */
export const SEALED_NOTICE_MS = 8000;

export interface EnrollmentFormOptions {
  backend: Backend;
  banner: Banner;
  handleError(err: AppError): void;
  /** Something was saved or sealed: the list should refresh. */
  onChanged(): void;
  /** Shown inside the form, above its buttons (the capture panel). */
  extra?: HTMLElement;
  /** Finalising was refused with these field errors (the capture panel shows its own). */
  onFieldErrors?(errors: FieldError[]): void;
}

export interface EnrollmentForm {
  el: HTMLElement;
  draftId(): string | null;
  /** Saves pending edits now (no-op when nothing changed). */
  flush(): Promise<void>;
  /** The Save button / Ctrl+S. */
  save(): Promise<void>;
  /** The Finalise button / Ctrl+Enter. */
  finalise(): Promise<void>;
  /** The New button: saves what is pending and starts an empty record. */
  startNew(): Promise<void>;
  /** Opens a saved draft; notice replaces the banner's "opened the draft of …". */
  load(id: string, notice?: string): Promise<void>;
  /** The UI language changed: redraw the texts the form composes itself. */
  relabel(): void;
  /** The backend's language changed: fetch the messages again in it. */
  revalidate(): void;
  focus(): void;
  dispose(): void;
}

function isEmpty(input: EnrollmentInput): boolean {
  return ENROLLMENT_FIELDS.every((f) => input[f].trim() === '');
}

export function createEnrollmentForm(opts: EnrollmentFormOptions): EnrollmentForm {
  const { backend, banner } = opts;

  const birthName = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', lang: 'vi' });
  const dateOfBirth = h('input', { type: 'date', min: '1900-01-01' });
  const sex = h(
    'select',
    {},
    tx('option', 'form.sexChoose', { value: '' }),
    tx('option', 'form.sexMale', { value: 'male' }),
    tx('option', 'form.sexFemale', { value: 'female' }),
  );
  const personalId = h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'off', maxlength: 20 });
  const controls: Record<EnrollmentField, HTMLInputElement | HTMLSelectElement> = {
    birthName,
    dateOfBirth,
    sex,
    personalId,
  };

  const btnSave = tx('button', 'form.save', { id: 'btn-save', type: 'button', class: 'btn', 'aria-keyshortcuts': 'Control+S' });
  const btnFinalise = tx('button', 'form.finalise', {
    id: 'btn-finalise',
    type: 'button',
    class: 'btn btn-primary',
    'aria-keyshortcuts': 'Control+Enter',
  });
  const btnNew = tx('button', 'form.new', { id: 'btn-new', type: 'button', class: 'btn' });
  const contextLine = h('p', { class: 'form-context', id: 'form-context' });
  const saveStatus = h('p', { class: 'save-status', id: 'save-status', 'aria-live': 'polite' });

  const el = h(
    'form',
    { class: 'card enrollment-form', novalidate: true, 'aria-labelledby': 'form-title' },
    tx('h2', 'form.title', { id: 'form-title' }),
    contextLine,
    field({ id: 'f-birthName', name: 'birthName', label: 'form.birthName', control: birthName, hint: 'form.birthNameHint' }),
    h(
      'div',
      { class: 'field-row' },
      field({ id: 'f-dateOfBirth', name: 'dateOfBirth', label: 'form.dateOfBirth', control: dateOfBirth }),
      field({ id: 'f-sex', name: 'sex', label: 'form.sex', control: sex }),
    ),
    field({ id: 'f-personalId', name: 'personalId', label: 'form.personalId', control: personalId, hint: 'form.personalIdHint' }),
    ...(opts.extra ? [opts.extra] : []),
    h('div', { class: 'actions' }, btnSave, btnFinalise, btnNew),
    saveStatus,
    tx('p', 'form.shortcuts', { class: 'hint shortcuts' }),
  );
  el.addEventListener('submit', (ev) => ev.preventDefault());

  // ---- state -------------------------------------------------------------
  let draftId: string | null = null;
  let dirty = false;
  let editVersion = 0;
  /** Bumped when the form switches record; late answers for the old one are dropped. */
  let generation = 0;
  let touched = new Set<EnrollmentField>();
  let showAll = false;
  let lastErrors: FieldError[] = [];
  let validateSeq = 0;
  let savedAt: Date | null = null;
  let saveState: 'idle' | 'saving' | 'saved' | 'unsaved' = 'idle';
  let saving: Promise<void> = Promise.resolve();
  let busy = false;
  let disposed = false;
  /** The "sealed" notice on the banner: gone on the next keystroke or after SEALED_NOTICE_MS. */
  let sealedNotice: { token: number; timer: ReturnType<typeof setTimeout> } | null = null;

  const dismissSealedNotice = (): void => {
    if (sealedNotice === null) return;
    clearTimeout(sealedNotice.timer);
    banner.dismiss(sealedNotice.token);
    sealedNotice = null;
  };

  const showSealedNotice = (name: string): void => {
    dismissSealedNotice();
    const token = banner.show('info', t('form.finalised', { name }));
    const timer = setTimeout(() => {
      sealedNotice = null;
      banner.dismiss(token);
    }, SEALED_NOTICE_MS);
    sealedNotice = { token, timer };
  };

  const read = (): EnrollmentInput => ({
    birthName: birthName.value,
    dateOfBirth: dateOfBirth.value,
    sex: (sex.value === 'male' || sex.value === 'female' ? sex.value : '') as Sex,
    personalId: personalId.value,
  });

  const write = (input: EnrollmentInput): void => {
    birthName.value = input.birthName;
    dateOfBirth.value = input.dateOfBirth;
    sex.value = input.sex;
    personalId.value = input.personalId;
  };

  const renderErrors = (): void => {
    const visible = lastErrors.filter((e) => showAll || touched.has(e.field as EnrollmentField));
    showFieldErrors(el, visible, ENROLLMENT_FIELDS);
  };

  const renderContext = (): void => {
    contextLine.textContent = draftId === null ? t('form.newRecord') : t('form.editingDraft', { id: draftId });
    const time = savedAt?.toLocaleTimeString(getLang() === 'vi' ? 'vi-VN' : 'en-GB') ?? '';
    saveStatus.textContent =
      saveState === 'saving'
        ? t('form.saving')
        : saveState === 'saved'
          ? t('form.savedAt', { time })
          : saveState === 'unsaved'
            ? t('form.unsaved')
            : '';
    saveStatus.dataset['state'] = saveState;
  };

  const validateNow = async (): Promise<void> => {
    const seq = ++validateSeq;
    const gen = generation;
    try {
      const errors = await backend.validateEnrollment(read());
      if (disposed || seq !== validateSeq || gen !== generation) return;
      lastErrors = errors;
      renderErrors();
    } catch (e) {
      if (!disposed) opts.handleError(toAppError(e));
    }
  };
  const validateSoon = debounce(() => void validateNow(), VALIDATE_DELAY_MS);

  /** Queues a save; saves run one after another so they all update one draft. */
  const queueSave = (explicit: boolean): Promise<void> => {
    const run = async (): Promise<void> => {
      if (disposed) return;
      const input = read();
      const version = editVersion;
      const gen = generation;
      if (draftId === null && isEmpty(input)) {
        if (explicit) banner.show('info', t('form.nothingToSave'));
        return;
      }
      if (!explicit && !dirty) return;
      saveState = 'saving';
      renderContext();
      try {
        const res = await backend.saveDraft(draftId, input);
        if (disposed || gen !== generation) return;
        draftId = res.id;
        if (version === editVersion) dirty = false;
        savedAt = new Date();
        saveState = dirty ? 'unsaved' : 'saved';
        // Validation answers asked for before this save are stale now.
        validateSeq++;
        lastErrors = res.errors;
        if (explicit) {
          showAll = true;
          banner.show('info', t('form.saved'));
        }
        renderErrors();
        renderContext();
        opts.onChanged();
      } catch (e) {
        if (disposed) return;
        saveState = 'unsaved';
        renderContext();
        opts.handleError(toAppError(e));
      }
    };
    saving = saving.then(run, run);
    return saving;
  };
  const autosave = debounce(() => void queueSave(false), AUTOSAVE_DELAY_MS, { maxWaitMs: AUTOSAVE_MAX_WAIT_MS });

  const flush = async (): Promise<void> => {
    autosave.cancel();
    if (dirty) await queueSave(false);
    else await saving;
  };

  const reset = (): void => {
    generation++;
    validateSoon.cancel();
    autosave.cancel();
    draftId = null;
    dirty = false;
    touched = new Set();
    showAll = false;
    lastErrors = [];
    savedAt = null;
    saveState = 'idle';
    write(emptyInput());
    renderErrors();
    renderContext();
  };

  const focusFirstInvalid = (): void => {
    const first = ENROLLMENT_FIELDS.find((f) => lastErrors.some((e) => e.field === f));
    controls[first ?? 'birthName'].focus();
  };

  const setBusy = (on: boolean): void => {
    busy = on;
    for (const b of [btnSave, btnFinalise, btnNew]) {
      if (on) b.setAttribute('aria-disabled', 'true');
      else b.removeAttribute('aria-disabled');
    }
    if (on) el.setAttribute('aria-busy', 'true');
    else el.removeAttribute('aria-busy');
  };

  // ---- events ------------------------------------------------------------
  for (const name of ENROLLMENT_FIELDS) {
    const control = controls[name];
    const onEdit = (): void => {
      dismissSealedNotice();
      touched.add(name);
      // Answers to validations asked before this edit are stale.
      validateSeq++;
      dirty = true;
      editVersion++;
      if (saveState !== 'saving') {
        saveState = 'unsaved';
        renderContext();
      }
      validateSoon();
      autosave();
    };
    control.addEventListener('input', onEdit);
    if (control instanceof HTMLSelectElement) control.addEventListener('change', onEdit);
    control.addEventListener('blur', () => {
      if (control.value.trim() !== '' || dirty || draftId !== null) touched.add(name);
      validateSoon.cancel();
      void validateNow();
    });
  }

  const api: EnrollmentForm = {
    el,
    draftId: () => draftId,
    flush,
    async save() {
      if (busy) return;
      autosave.cancel();
      validateSoon.cancel();
      await queueSave(true);
    },
    async finalise() {
      if (busy) return;
      setBusy(true);
      try {
        autosave.cancel();
        validateSoon.cancel();
        const input = read();
        if (draftId === null && isEmpty(input)) {
          showAll = true;
          await validateNow();
          focusFirstInvalid();
          return;
        }
        if (dirty || draftId === null) await queueSave(false);
        else await saving;
        const id = draftId;
        if (id === null || disposed) return;
        try {
          const summary = await backend.finalise(id);
          if (disposed) return;
          reset();
          showSealedNotice(summary.birthName);
          opts.onChanged();
          birthName.focus();
        } catch (e) {
          if (disposed) return;
          const err = toAppError(e);
          if (err.fieldErrors) {
            validateSeq++;
            lastErrors = err.fieldErrors;
            showAll = true;
            renderErrors();
            opts.onFieldErrors?.(err.fieldErrors);
            focusFirstInvalid();
          }
          opts.handleError(err);
        }
      } finally {
        setBusy(false);
      }
    },
    async startNew() {
      if (busy) return;
      await flush();
      reset();
      banner.clear();
      opts.onChanged();
      birthName.focus();
    },
    async load(id: string, notice?: string) {
      if (busy || id === draftId) return;
      await flush();
      try {
        const input = await backend.getDraft(id);
        if (disposed) return;
        reset();
        draftId = id;
        write(input);
        showAll = true;
        renderContext();
        banner.show('info', notice ?? t('form.loaded', { name: input.birthName.trim() || t('list.noName') }));
        opts.onChanged();
        birthName.focus();
        await validateNow();
      } catch (e) {
        if (!disposed) opts.handleError(toAppError(e));
      }
    },
    relabel: renderContext,
    revalidate() {
      if (lastErrors.length > 0 || touched.size > 0) void validateNow();
    },
    focus: () => birthName.focus(),
    dispose() {
      disposed = true;
      if (sealedNotice !== null) clearTimeout(sealedNotice.timer);
      sealedNotice = null;
      autosave.cancel();
      validateSoon.cancel();
    },
  };

  btnSave.addEventListener('click', () => void api.save());
  btnFinalise.addEventListener('click', () => void api.finalise());
  btnNew.addEventListener('click', () => void api.startNew());

  renderContext();
  return api;
}
