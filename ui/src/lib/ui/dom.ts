import type { FieldError } from '../backend/types';
import { applyI18n, type MessageKey } from '../i18n';

type AttrValue = string | number | boolean | null | undefined;
type Child = Node | string | null | undefined | false;

/** Creates an element. Attribute false/null/undefined is left out, true is set empty. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, AttrValue> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c);
  }
  return el;
}

/** An element whose text is the translation of key (kept in step on language change). */
export function tx<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  key: MessageKey,
  attrs: Record<string, AttrValue> = {},
): HTMLElementTagNameMap[K] {
  const el = h(tag, { ...attrs, 'data-i18n': key });
  applyI18n(el);
  return el;
}

/** A labelled input with its error slot: label, control, hint, [data-error-for]. */
export function field(opts: {
  id: string;
  name: string;
  label: MessageKey;
  control: HTMLInputElement | HTMLSelectElement;
  hint?: MessageKey;
}): HTMLDivElement {
  const errId = `${opts.id}-error`;
  const hintId = opts.hint ? `${opts.id}-hint` : null;
  const { control } = opts;
  control.id = opts.id;
  control.setAttribute('aria-describedby', [hintId, errId].filter(Boolean).join(' '));
  return h(
    'div',
    { class: 'field', 'data-field': opts.name },
    tx('label', opts.label, { for: opts.id }),
    control,
    hintId && opts.hint ? tx('p', opts.hint, { class: 'hint', id: hintId }) : null,
    h('p', { class: 'field-error', id: errId, 'data-error-for': opts.name, 'aria-live': 'polite' }),
  );
}

/**
 * Shows errors under their fields within root (first message per field) and
 * sets aria-invalid. Fields in `only` (when given) are the only ones touched;
 * the others keep what they show.
 */
export function showFieldErrors(
  root: ParentNode,
  errors: readonly FieldError[],
  fields: readonly string[],
): void {
  for (const name of fields) {
    const msgs = errors.filter((e) => e.field === name).map((e) => e.message);
    const slot = root.querySelector<HTMLElement>(`[data-error-for="${name}"]`);
    if (slot) slot.textContent = msgs.join(' ');
    const fieldEl = root.querySelector<HTMLElement>(`[data-field="${name}"]`);
    const control = fieldEl?.querySelector<HTMLElement>('input, select, textarea');
    if (control) {
      if (msgs.length > 0) control.setAttribute('aria-invalid', 'true');
      else control.removeAttribute('aria-invalid');
    }
    fieldEl?.classList.toggle('has-error', msgs.length > 0);
  }
}

/**
 * Runs f once, ms after the last call to the returned function. With maxWaitMs, a stream
 * of calls that never pauses for ms still runs f at least every maxWaitMs, counted from
 * the first call since f last ran (lodash's debounce maxWait, trailing edge only).
 */
export function debounce(
  f: () => void,
  ms: number,
  opts: { maxWaitMs?: number } = {},
): { (): void; cancel(): void; pending(): boolean } {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let maxTimer: ReturnType<typeof setTimeout> | null = null;
  const cancel = (): void => {
    if (timer !== null) clearTimeout(timer);
    if (maxTimer !== null) clearTimeout(maxTimer);
    timer = null;
    maxTimer = null;
  };
  const fire = (): void => {
    cancel();
    f();
  };
  const run = (): void => {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(fire, ms);
    if (opts.maxWaitMs !== undefined && maxTimer === null) maxTimer = setTimeout(fire, opts.maxWaitMs);
  };
  run.cancel = cancel;
  run.pending = (): boolean => timer !== null;
  return run;
}
