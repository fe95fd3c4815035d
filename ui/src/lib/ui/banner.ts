import type { AppError } from '../backend/types';
import { t } from '../i18n';

export type BannerKind = 'error' | 'info';

/** The one #banner of the page: general errors and notices. */
export interface Banner {
  /** Shows text; returns a token for {@link Banner.dismiss}. */
  show(kind: BannerKind, text: string): number;
  error(err: AppError): void;
  clear(): void;
  /** Clears the banner only if it still shows the message that returned token. */
  dismiss(token: number): void;
}

export function createBanner(el: HTMLElement): Banner {
  /** Bumped by every show and clear: identifies the message on screen. */
  let current = 0;
  const show = (kind: BannerKind, text: string): number => {
    el.textContent = text;
    el.dataset['kind'] = kind;
    el.setAttribute('role', kind === 'error' ? 'alert' : 'status');
    return ++current;
  };
  const clear = (): void => {
    current++;
    el.textContent = '';
    delete el.dataset['kind'];
    el.setAttribute('role', 'status');
  };
  return {
    show,
    error(err) {
      show('error', err.message || t('error.unknown'));
    },
    clear,
    dismiss(token) {
      if (token === current) clear();
    },
  };
}
