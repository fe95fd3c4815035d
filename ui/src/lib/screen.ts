import type { Backend } from './backend/backend';
import type { AppError, AppStatus } from './backend/types';
import type { Banner } from './ui/banner';

/** What a screen gets from the app shell. */
export interface ScreenContext {
  backend: Backend;
  banner: Banner;
  status: AppStatus;
  /** A command returned a new status: the shell shows the screen for it. */
  setStatus(status: AppStatus): void;
  /** Shows err; a 'locked' or 'notProvisioned' error makes the shell re-read the status. */
  handleError(err: AppError): void;
}

export interface Screen {
  el: HTMLElement;
  /** Puts the keyboard focus where work starts. */
  focus(): void;
  /** The status changed but the state did not (e.g. language). */
  update?(status: AppStatus): void;
  dispose(): void;
}
