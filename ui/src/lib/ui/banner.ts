import type { AppError } from '../backend/types';
import { t } from '../i18n';

export type BannerKind = 'error' | 'info';

/** The one #banner of the page: general errors and notices. */
export interface Banner {
  show(kind: BannerKind, text: string): void;
  error(err: AppError): void;
  clear(): void;
}

export function createBanner(el: HTMLElement): Banner {
  const show = (kind: BannerKind, text: string): void => {
    el.textContent = text;
    el.dataset['kind'] = kind;
    el.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  };
  return {
    show,
    error(err) {
      show('error', err.message || t('error.unknown'));
    },
    clear() {
      el.textContent = '';
      delete el.dataset['kind'];
      el.setAttribute('role', 'status');
    },
  };
}
