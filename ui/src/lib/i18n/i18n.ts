import type { Lang } from '../backend/types';
import { en } from './en';
import { vi, type MessageKey, type Messages } from './vi';

export type { MessageKey };

const DICTS: Record<Lang, Messages> = { vi, en };
export const STORAGE_KEY = 'ghidanh.lang';

let current: Lang = 'vi';
const listeners = new Set<(lang: Lang) => void>();

export function isLang(v: unknown): v is Lang {
  return v === 'vi' || v === 'en';
}

/** The language saved on this machine, if any. */
export function storedLang(): Lang | null {
  try {
    const v = localStorage.getItem(STORAGE_KEY);
    return isLang(v) ? v : null;
  } catch {
    return null;
  }
}

export function getLang(): Lang {
  return current;
}

/** Switches the UI language, saves it, retranslates the page and tells listeners. */
export function setLang(lang: Lang): void {
  current = lang;
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // storage may be unavailable; the choice then lasts for this session only
  }
  document.documentElement.lang = lang;
  applyI18n(document.body);
  for (const f of listeners) f(lang);
}

/** Calls f after every language change; returns the unsubscribe function. */
export function onLangChange(f: (lang: Lang) => void): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}

/** The text of key in the current language, with {name} placeholders filled. */
export function t(key: MessageKey, vars: Record<string, string> = {}): string {
  const s = DICTS[current][key];
  return s.replace(/\{(\w+)\}/g, (m, name: string) => vars[name] ?? m);
}

/**
 * Fills every element under root that names a key:
 * data-i18n="key" sets the text, data-i18n-title / -placeholder / -aria-label
 * set those attributes.
 */
export function applyI18n(root: ParentNode): void {
  const attrs = ['title', 'placeholder', 'aria-label'] as const;
  const selector = ['[data-i18n]', ...attrs.map((a) => `[data-i18n-${a}]`)].join(',');
  const els: Element[] = [];
  if (root instanceof Element && root.matches(selector)) els.push(root);
  els.push(...root.querySelectorAll(selector));
  for (const el of els) {
    const key = el.getAttribute('data-i18n');
    if (key !== null && key in vi) el.textContent = t(key as MessageKey);
    for (const a of attrs) {
      const k = el.getAttribute(`data-i18n-${a}`);
      if (k !== null && k in vi) el.setAttribute(a, t(k as MessageKey));
    }
  }
}
