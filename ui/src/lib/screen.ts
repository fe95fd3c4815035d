import type { Backend } from './backend/backend';
import type { AppError, AppStatus } from './backend/types';
import type { Banner } from './ui/banner';

/** The screens of an unlocked session. */
export type View = 'main' | 'passphrase' | 'operators';

/** What a screen gets from the app shell. */
export interface ScreenContext {
  backend: Backend;
  banner: Banner;
  status: AppStatus;
  /** A command returned a new status: the shell shows the screen for it. */
  setStatus(status: AppStatus): void;
  /** Shows err; a 'locked', 'wiped' or 'notProvisioned' error makes the shell re-read the status. */
  handleError(err: AppError): void;
  /** Switches between the screens of an unlocked session. */
  navigate(view: View): void;
  /** The operator asked to lock (so the unlock screen does not call it an idle lock). */
  lockRequested(): void;
  /** The main screen goes (lock, another screen) with this draft open: remember it. */
  rememberDraft(id: string | null): void;
  /** The draft this operator had open before the last lock or screen change, if any. */
  resumeDraft(): string | null;
}

export interface Screen {
  el: HTMLElement;
  /** Puts the keyboard focus where work starts. */
  focus(): void;
  /** The status changed but the state did not (e.g. language). */
  update?(status: AppStatus): void;
  dispose(): void;
}
