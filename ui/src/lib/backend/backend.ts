import type {
  AppError,
  AppStatus,
  EnrollmentInput,
  EnrollmentSummary,
  ErrorCode,
  FieldError,
  Lang,
  SaveResult,
} from './types';

/**
 * Everything the UI asks of the core. One method per Tauri command; every
 * method rejects with an {@link AppError}.
 */
export interface Backend {
  appStatus(): Promise<AppStatus>;
  setLanguage(lang: Lang): Promise<AppStatus>;
  createOperator(name: string, passphrase: string, passphraseConfirm: string): Promise<AppStatus>;
  unlock(passphrase: string): Promise<AppStatus>;
  lock(): Promise<AppStatus>;
  validateEnrollment(input: EnrollmentInput): Promise<FieldError[]>;
  saveDraft(id: string | null, input: EnrollmentInput): Promise<SaveResult>;
  getDraft(id: string): Promise<EnrollmentInput>;
  finalise(id: string): Promise<EnrollmentSummary>;
  listEnrollments(): Promise<EnrollmentSummary[]>;
}

const ERROR_CODES: readonly ErrorCode[] = [
  'wrongPassphrase',
  'invalidInput',
  'locked',
  'notFound',
  'alreadySetUp',
  'notProvisioned',
  'internal',
];

function isFieldError(v: unknown): v is FieldError {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o['field'] === 'string' && typeof o['message'] === 'string';
}

/**
 * Turns whatever a rejected promise carried into an {@link AppError}.
 * The contract says the backend always rejects with an AppError, but a
 * panic, an IPC failure or a plain string must not crash the UI.
 */
export function toAppError(e: unknown): AppError {
  if (typeof e === 'object' && e !== null) {
    const o = e as Record<string, unknown>;
    const code = o['code'];
    const message = o['message'];
    if (typeof message === 'string') {
      const err: AppError = {
        code: ERROR_CODES.includes(code as ErrorCode) ? (code as ErrorCode) : 'internal',
        message,
      };
      const fe = o['fieldErrors'];
      if (Array.isArray(fe)) {
        err.fieldErrors = fe.filter(isFieldError).map((f) => ({
          field: f.field,
          rule: typeof f.rule === 'string' ? f.rule : '',
          message: f.message,
        }));
      }
      return err;
    }
  }
  if (typeof e === 'string') return { code: 'internal', message: e };
  return { code: 'internal', message: '' };
}
