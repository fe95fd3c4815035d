import type {
  BiometricsSheet,
  CameraPreview,
  ExceptionCode,
  FaceCheck,
  FingerResult,
  ScannerInfo,
  AppError,
  AppStatus,
  EnrollmentInput,
  EnrollmentSummary,
  ErrorCode,
  FieldError,
  Lang,
  OperatorInfo,
  Role,
  SaveResult,
  SyncStatus,
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
  listOperators(): Promise<OperatorInfo[]>;
  /** Supervisor only. */
  addOperator(name: string, role: Role, passphrase: string, passphraseConfirm: string): Promise<OperatorInfo>;
  /** The signed-in account's own passphrase; current must open it. */
  changePassphrase(current: string, passphrase: string, passphraseConfirm: string): Promise<void>;
  /** Supervisor only: a new passphrase for another account (its data stays). */
  resetPassphrase(operatorId: string, passphrase: string, passphraseConfirm: string): Promise<void>;
  /** Days an accepted record keeps its personal data on the device after its receipt. */
  getRetentionDays(): Promise<number>;
  /**
   * Supervisor only. days is the field as typed: the core checks it (whole days, its
   * limits) and rejects with invalidInput and a retentionDays field error; resolves to the days set.
   */
  setRetentionDays(days: string): Promise<number>;
  /** Megabytes the kit may send per day (0: no limit). */
  getDailyAllowanceMb(): Promise<number>;
  /**
   * Supervisor only. megabytes is the field as typed (empty or 0: no limit); the core checks
   * it and rejects with invalidInput and a dailyAllowanceMb field error; resolves to the MB set.
   */
  setDailyAllowanceMb(megabytes: string): Promise<number>;
  validateEnrollment(input: EnrollmentInput): Promise<FieldError[]>;
  saveDraft(id: string | null, input: EnrollmentInput): Promise<SaveResult>;
  getDraft(id: string): Promise<EnrollmentInput>;
  finalise(id: string): Promise<EnrollmentSummary>;
  /**
   * A record the registry refused: its personal data is removed from the device; the
   * receipt and the audit entries stay. Rejects with notRejected for any other record.
   */
  discardRejected(id: string): Promise<void>;
  /**
   * A record refused for its content: a new draft holds the record as sealed, the refused
   * one is discarded. Resolves to the new draft's id; notRejected / notCorrectable otherwise.
   */
  redoRejected(id: string): Promise<string>;
  listEnrollments(): Promise<EnrollmentSummary[]>;
  /** Polled by the sync panel; not activity for the idle lock. */
  syncStatus(): Promise<SyncStatus>;
  /** The capture sheet of a draft (what the age rule asks, what is kept). */
  biometrics(id: string): Promise<BiometricsSheet>;
  /** Checks a photo (base64 or a data URL) without keeping it. */
  checkPortrait(image: string): Promise<FaceCheck>;
  /** Keeps a photo as the portrait; rejects with portraitRefused (what to fix) or captureRefused. */
  importPortrait(id: string, image: string): Promise<BiometricsSheet>;
  /** One camera frame and its check, for the live preview; rejects with camera. */
  cameraPreview(): Promise<CameraPreview>;
  /** Takes the portrait from the camera's next frame. */
  takePortraitFromCamera(id: string): Promise<BiometricsSheet>;
  /** The kept portrait (base64 JPEG), or null. */
  portraitImage(id: string): Promise<string | null>;
  /** Looks for a fingerprint scanner; null when none answers. */
  findScanner(): Promise<ScannerInfo | null>;
  /** Captures one finger; the better of this and the kept print is kept. */
  captureFinger(id: string, position: number): Promise<FingerResult>;
  /** Records why a finger cannot be captured (detail: the operator's words, for 'other'). */
  exceptFinger(id: string, position: number, reason: ExceptionCode, detail: string): Promise<BiometricsSheet>;
  /** Removes what is kept for a finger. */
  clearFinger(id: string, position: number): Promise<BiometricsSheet>;
}

const ERROR_CODES: readonly ErrorCode[] = [
  'wrongPassphrase',
  'invalidInput',
  'locked',
  'notFound',
  'alreadySetUp',
  'notProvisioned',
  'notADraft',
  'notRejected',
  'notCorrectable',
  'tooManyAttempts',
  'notSupervisor',
  'passphraseInUse',
  'diskFull',
  'readOnly',
  'wiped',
  'vaultCorrupt',
  'captureRefused',
  'portraitRefused',
  'noScanner',
  'scanner',
  'camera',
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
      const retry = o['retryAfterSecs'];
      if (typeof retry === 'number' && Number.isFinite(retry) && retry >= 0) err.retryAfterSecs = Math.ceil(retry);
      return err;
    }
  }
  if (typeof e === 'string') return { code: 'internal', message: e };
  return { code: 'internal', message: '' };
}
