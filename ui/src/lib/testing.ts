// Helpers for the vitest + jsdom tests (not part of the app bundle).
import { vi } from 'vitest';
import { startApp, type App } from './app';
import type { Backend } from './backend/backend';

export function $(selector: string): HTMLElement {
  const el = document.querySelector<HTMLElement>(selector);
  if (!el) throw new Error(`no element matches ${selector}`);
  return el;
}

export function $input(selector: string): HTMLInputElement | HTMLSelectElement {
  const el = $(selector);
  if (!(el instanceof HTMLInputElement || el instanceof HTMLSelectElement)) throw new Error(`${selector} is no input`);
  return el;
}

export function text(selector: string): string {
  return ($(selector).textContent ?? '').trim();
}

/** Types a whole value into a field, as one input event. */
export function type(selector: string, value: string): void {
  const el = $input(selector);
  el.focus();
  el.value = value;
  el.dispatchEvent(new Event('input', { bubbles: true }));
  if (el instanceof HTMLSelectElement) el.dispatchEvent(new Event('change', { bubbles: true }));
}

export function key(k: string, mods: { ctrlKey?: boolean } = {}): void {
  (document.activeElement ?? document.body).dispatchEvent(
    new KeyboardEvent('keydown', { key: k, bubbles: true, cancelable: true, ...mods }),
  );
}

/** Lets pending promises and timers due within ms run (fake timers). */
export async function tick(ms = 0): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
}

export async function boot(backend: Backend): Promise<App> {
  document.body.innerHTML = '<div id="app"></div>';
  const app = await startApp($('#app'), backend);
  await tick();
  return app;
}
