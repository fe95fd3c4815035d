import { toAppError, type Backend } from '../backend/backend';
import type {
  AppError,
  BiometricsSheet,
  ExceptionCode,
  FaceCheck,
  FieldError,
  FingerSheetEntry,
} from '../backend/types';
import { t, type MessageKey } from '../i18n';
import type { Banner } from '../ui/banner';
import { h, tx } from '../ui/dom';

/** How often the live camera preview asks for a frame. */
export const PREVIEW_INTERVAL_MS = 400;

const REASONS: readonly ExceptionCode[] = ['missing', 'bandaged', 'unreadable', 'other'];

export interface CapturePanelOptions {
  backend: Backend;
  banner: Banner;
  handleError(err: AppError): void;
  /** The draft to capture into, saved first if need be; null while the form is empty. */
  ensureDraft(): Promise<string | null>;
}

export interface CapturePanel {
  el: HTMLElement;
  /** Shows the sheet of this draft (null: a new, empty record). */
  show(id: string | null): Promise<void>;
  /** The finalise refusal's biometric problems (fields biometrics.*), shown in the panel. */
  showErrors(errors: FieldError[]): void;
  relabel(): void;
  dispose(): void;
}

function fingerName(position: number): string {
  return t(`finger.${position}` as MessageKey);
}

/** The portrait and fingerprint part of the enrollment form. */
export function createCapturePanel(opts: CapturePanelOptions): CapturePanel {
  const { backend, banner } = opts;

  const rule = h('p', { class: 'capture-rule', id: 'capture-rule' });
  const errorsBox = h('ul', { class: 'capture-errors', id: 'capture-errors', role: 'alert', hidden: true });

  // ---- portrait ------------------------------------------------------------
  const portraitImg = h('img', { id: 'portrait-image', class: 'portrait-image', alt: '', hidden: true });
  const previewImg = h('img', { id: 'camera-preview', class: 'camera-preview', alt: '', hidden: true });
  const portraitState = h('p', { id: 'portrait-state', class: 'portrait-state', 'aria-live': 'polite' });
  const previewState = h('p', { id: 'preview-state', class: 'preview-state', 'aria-live': 'polite' });
  const issues = h('ul', { id: 'portrait-issues', class: 'portrait-issues' });
  const btnCamera = tx('button', 'capture.cameraOn', { id: 'btn-camera', type: 'button', class: 'btn' });
  const btnTake = tx('button', 'capture.takePhoto', { id: 'btn-take-photo', type: 'button', class: 'btn', hidden: true });
  const fileInput = h('input', {
    id: 'portrait-file',
    type: 'file',
    accept: 'image/jpeg,image/png',
    class: 'visually-hidden-file',
  });
  const fileLabel = tx('label', 'capture.importFile', { for: 'portrait-file', class: 'btn btn-file' });
  const portraitBox = h(
    'div',
    { class: 'capture-portrait', id: 'capture-portrait' },
    tx('h3', 'capture.portrait'),
    h('div', { class: 'portrait-images' }, portraitImg, previewImg),
    portraitState,
    previewState,
    issues,
    h('div', { class: 'actions' }, btnCamera, btnTake, fileLabel, fileInput),
  );

  // ---- fingers -------------------------------------------------------------
  const scannerState = h('p', { id: 'scanner-state', class: 'scanner-state' });
  const btnFind = tx('button', 'capture.findScanner', { id: 'btn-find-scanner', type: 'button', class: 'btn' });
  const btnAll = tx('button', 'capture.captureAll', { id: 'btn-capture-all', type: 'button', class: 'btn btn-primary' });
  const fingerFeedback = h('p', { id: 'finger-feedback', class: 'finger-feedback', 'aria-live': 'polite' });
  const accounted = h('p', { id: 'fingers-accounted', class: 'fingers-accounted' });
  const rows = h('tbody');
  const fingersBox = h(
    'div',
    { class: 'capture-fingers', id: 'capture-fingers' },
    tx('h3', 'capture.fingers'),
    h('div', { class: 'actions' }, scannerState, btnFind, btnAll),
    fingerFeedback,
    h('table', { class: 'finger-table' }, rows),
    accounted,
  );

  const el = h(
    'section',
    { class: 'capture', id: 'capture', 'aria-labelledby': 'capture-title' },
    tx('h2', 'capture.title', { id: 'capture-title' }),
    rule,
    errorsBox,
    portraitBox,
    fingersBox,
  );

  // ---- state ---------------------------------------------------------------
  let draftId: string | null = null;
  let sheet: BiometricsSheet | null = null;
  let previewTimer: ReturnType<typeof setInterval> | null = null;
  let previewing = false;
  let busy = false;
  let disposed = false;
  /** Bumped when the panel switches record; late answers for the old one are dropped. */
  let generation = 0;

  const setBusy = (on: boolean): void => {
    busy = on;
    el.toggleAttribute('aria-busy', on);
    for (const b of el.querySelectorAll<HTMLButtonElement>('button')) b.disabled = on;
  };

  const renderRule = (): void => {
    const req = sheet?.requirement ?? null;
    el.dataset['requirement'] = req ?? 'unknown';
    rule.textContent =
      draftId === null
        ? t('capture.needDraft')
        : req === null
          ? t('capture.needDate')
          : req === 'none'
            ? t('capture.underSix')
            : t('capture.required');
    const none = req === 'none';
    portraitBox.hidden = none;
    fingersBox.hidden = none;
  };

  const renderPortrait = (): void => {
    const q = sheet?.faceQuality ?? null;
    portraitState.dataset['kept'] = q === null ? 'false' : 'true';
    portraitState.textContent = q === null ? t('capture.noPortrait') : t('capture.portraitKept', { score: String(q) });
    btnCamera.hidden = !(sheet?.hasCamera ?? false);
    btnCamera.textContent = previewing ? t('capture.cameraOff') : t('capture.cameraOn');
    btnTake.hidden = !previewing;
    previewImg.hidden = !previewing;
  };

  const showCheck = (check: FaceCheck | null): void => {
    issues.replaceChildren(...(check?.issues ?? []).map((i) => h('li', { 'data-code': i.code }, i.message)));
    if (check === null) {
      previewState.textContent = '';
      delete previewState.dataset['score'];
      return;
    }
    previewState.dataset['score'] = String(check.score);
    previewState.textContent =
      check.issues.length === 0
        ? `${t('capture.previewScore', { score: String(check.score) })} ${t('capture.previewGood')}`
        : t('capture.previewScore', { score: String(check.score) });
  };

  const stateText = (f: FingerSheetEntry): string => {
    switch (f.state) {
      case 'captured':
        return t('capture.stateCaptured', { quality: String(f.quality ?? 0) });
      case 'excepted': {
        const reason = f.reason === 'other' && f.detail ? f.detail : t(`capture.reason.${f.reason ?? 'other'}` as MessageKey);
        return t('capture.stateExcepted', { reason });
      }
      default:
        return t('capture.stateMissing');
    }
  };

  const buildRow = (position: number): HTMLTableRowElement => {
    const reason = h(
      'select',
      { class: 'exception-reason', 'aria-label': t('capture.reasonChoose') },
      tx('option', 'capture.reasonChoose', { value: '' }),
      ...REASONS.map((r) => tx('option', `capture.reason.${r}` as MessageKey, { value: r })),
    );
    const detail = h('input', { type: 'text', class: 'exception-detail', hidden: true, 'aria-label': t('capture.detail') });
    reason.addEventListener('change', () => {
      detail.hidden = reason.value !== 'other';
    });
    return h(
      'tr',
      { 'data-position': String(position) },
      h('th', { scope: 'row', class: 'finger-name' }, fingerName(position)),
      h('td', { class: 'finger-state' }),
      h(
        'td',
        { class: 'finger-actions' },
        tx('button', 'capture.capture', { type: 'button', class: 'btn btn-capture', 'data-action': 'capture' }),
        reason,
        detail,
        tx('button', 'capture.except', { type: 'button', class: 'btn btn-except', 'data-action': 'except' }),
        tx('button', 'capture.clear', { type: 'button', class: 'btn btn-clear', 'data-action': 'clear' }),
      ),
    );
  };
  for (let p = 1; p <= 10; p++) rows.append(buildRow(p));

  const renderFingers = (): void => {
    const fingers = sheet?.fingers ?? [];
    let count = 0;
    for (const row of rows.querySelectorAll<HTMLTableRowElement>('tr[data-position]')) {
      const position = Number(row.dataset['position']);
      const f = fingers.find((x) => x.position === position) ?? {
        position,
        state: 'missing' as const,
        quality: null,
        reason: null,
        detail: null,
      };
      if (f.state !== 'missing') count++;
      row.dataset['state'] = f.state;
      const low = f.state === 'captured' && (f.quality ?? 0) < (sheet?.retryBelow ?? 0);
      row.dataset['low'] = low ? 'true' : 'false';
      const name = row.querySelector('.finger-name');
      if (name) name.textContent = fingerName(position);
      const state = row.querySelector('.finger-state');
      if (state) state.textContent = stateText(f);
      const clear = row.querySelector<HTMLElement>('.btn-clear');
      if (clear) clear.hidden = f.state === 'missing';
    }
    accounted.dataset['count'] = String(count);
    accounted.textContent = t('capture.accounted', { count: String(count) });
  };

  const render = (): void => {
    renderRule();
    renderPortrait();
    renderFingers();
  };

  let searched = false;
  const findScanner = async (): Promise<void> => {
    searched = true;
    try {
      renderScanner(await backend.findScanner());
    } catch (e) {
      if (!disposed) opts.handleError(toAppError(e));
    }
  };

  const loadSheet = async (): Promise<void> => {
    const gen = generation;
    if (draftId === null) {
      sheet = null;
      portraitImg.hidden = true;
      render();
      return;
    }
    try {
      const [s, image] = await Promise.all([backend.biometrics(draftId), backend.portraitImage(draftId)]);
      if (disposed || gen !== generation) return;
      sheet = s;
      portraitImg.hidden = image === null;
      if (image !== null) portraitImg.src = `data:image/jpeg;base64,${image}`;
      render();
      // The scanner is looked for once the sheet asks for fingers.
      if (!searched && s.requirement !== 'none') void findScanner();
    } catch (e) {
      if (!disposed) opts.handleError(toAppError(e));
    }
  };

  /** Runs a capture step on the draft (saved first); the sheet is read again afterwards. */
  const withDraft = async (step: (id: string) => Promise<void>): Promise<void> => {
    if (busy) return;
    setBusy(true);
    try {
      const id = await opts.ensureDraft();
      if (disposed) return;
      if (id === null) {
        banner.show('error', t('capture.needDraft'));
        return;
      }
      if (id !== draftId) {
        generation++;
        draftId = id;
      }
      errorsBox.hidden = true;
      await step(id);
    } catch (e) {
      if (!disposed) opts.handleError(toAppError(e));
    } finally {
      setBusy(false);
      if (!disposed) await loadSheet();
    }
  };

  // ---- portrait events -------------------------------------------------------
  const stopPreview = (): void => {
    if (previewTimer !== null) clearInterval(previewTimer);
    previewTimer = null;
    previewing = false;
    showCheck(null);
    renderPortrait();
  };

  // One frame at a time: a slow check must not pile requests up behind it.
  let previewInFlight = false;
  const pollPreview = async (): Promise<void> => {
    if (previewInFlight) return;
    previewInFlight = true;
    try {
      const p = await backend.cameraPreview();
      if (disposed || !previewing) return;
      previewImg.src = `data:image/jpeg;base64,${p.frame}`;
      showCheck(p.check);
    } catch (e) {
      if (disposed) return;
      stopPreview();
      opts.handleError(toAppError(e));
    } finally {
      previewInFlight = false;
    }
  };

  btnCamera.addEventListener('click', () => {
    if (previewing) {
      stopPreview();
      return;
    }
    previewing = true;
    renderPortrait();
    void pollPreview();
    previewTimer = setInterval(() => void pollPreview(), PREVIEW_INTERVAL_MS);
  });

  btnTake.addEventListener('click', () => {
    void withDraft(async (id) => {
      try {
        sheet = await backend.takePortraitFromCamera(id);
        stopPreview();
      } catch (e) {
        const err = toAppError(e);
        // The check's reasons stay on screen under the preview.
        if (err.code === 'portraitRefused') banner.show('error', err.message);
        else throw e;
      }
    });
  });

  fileInput.addEventListener('change', () => {
    const file = fileInput.files?.[0];
    // Cleared at once: the same file picked again must fire `change` again.
    fileInput.value = '';
    if (!file) return;
    void withDraft(async (id) => {
      const data = await readFile(file);
      try {
        sheet = await backend.importPortrait(id, data);
        showCheck(null);
      } catch (e) {
        const err = toAppError(e);
        if (err.code !== 'portraitRefused') throw e;
        banner.show('error', err.message);
        // Show what to fix, item by item, beside the photo.
        showCheck(await backend.checkPortrait(data));
      }
    });
  });

  // ---- finger events ---------------------------------------------------------
  const feedback = (position: number, score: number, kept: boolean, best: number): void => {
    const finger = fingerName(position);
    const low = score < (sheet?.retryBelow ?? 0);
    fingerFeedback.dataset['position'] = String(position);
    fingerFeedback.dataset['score'] = String(score);
    fingerFeedback.textContent = !kept
      ? t('capture.keptEarlier', { finger, score: String(score), best: String(best) })
      : low
        ? t('capture.keptLow', { finger, score: String(score) })
        : t('capture.kept', { finger, score: String(score) });
  };

  const captureOne = async (id: string, position: number): Promise<void> => {
    fingerFeedback.textContent = t('capture.capturing', { finger: fingerName(position).toLowerCase() });
    const r = await backend.captureFinger(id, position);
    feedback(r.position, r.score, r.kept, r.best);
    const issueText = r.issues.map((i) => i.message).join(' ');
    if (issueText && r.score < (sheet?.retryBelow ?? 0)) fingerFeedback.textContent += ` ${issueText}`;
  };

  const renderScanner = (found: { makeModel: string; serial: string } | null): void => {
    scannerState.dataset['found'] = found ? 'true' : 'false';
    scannerState.textContent = found
      ? t('capture.scannerFound', { model: found.makeModel, serial: found.serial })
      : t('capture.scannerNone');
  };

  btnFind.addEventListener('click', () => void findScanner());

  btnAll.addEventListener('click', () => {
    void withDraft(async (id) => {
      const missing = (sheet?.fingers ?? [])
        .filter((f) => f.state === 'missing')
        .map((f) => f.position);
      const todo = sheet === null ? [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] : missing;
      for (const position of todo) {
        if (disposed) return;
        await captureOne(id, position);
      }
    });
  });

  rows.addEventListener('click', (ev) => {
    const target = ev.target instanceof Element ? ev.target.closest<HTMLButtonElement>('button[data-action]') : null;
    const row = target?.closest<HTMLTableRowElement>('tr[data-position]');
    if (!target || !row) return;
    const position = Number(row.dataset['position']);
    const action = target.dataset['action'];
    if (action === 'capture') {
      void withDraft((id) => captureOne(id, position));
    } else if (action === 'except') {
      const reason = row.querySelector<HTMLSelectElement>('.exception-reason')?.value ?? '';
      const detail = row.querySelector<HTMLInputElement>('.exception-detail')?.value ?? '';
      void withDraft(async (id) => {
        sheet = await backend.exceptFinger(id, position, reason as ExceptionCode, detail);
      });
    } else if (action === 'clear') {
      void withDraft(async (id) => {
        sheet = await backend.clearFinger(id, position);
      });
    }
  });

  return {
    el,
    async show(id) {
      if (id !== draftId) {
        generation++;
        draftId = id;
        errorsBox.hidden = true;
        stopPreview();
        fingerFeedback.textContent = '';
      }
      await loadSheet();
    },
    showErrors(errors) {
      const mine = errors.filter((e) => e.field.startsWith('biometrics.'));
      errorsBox.replaceChildren(...mine.map((e) => h('li', { 'data-field': e.field, 'data-rule': e.rule }, e.message)));
      errorsBox.hidden = mine.length === 0;
    },
    relabel: render,
    dispose() {
      disposed = true;
      stopPreview();
    },
  };
}

function readFile(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(typeof reader.result === 'string' ? reader.result : '');
    reader.onerror = () => reject(reader.error ?? new Error('read failed'));
    reader.readAsDataURL(file);
  });
}
