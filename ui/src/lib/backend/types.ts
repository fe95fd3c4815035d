// Wire types of the Tauri commands. The Rust side (src-tauri) serialises to
// exactly these shapes; keep both in step.

export type Lang = 'vi' | 'en';

export type ErrorCode =
  | 'wrongPassphrase'
  | 'invalidInput'
  | 'locked'
  | 'notFound'
  | 'alreadySetUp'
  | 'notProvisioned'
  | 'internal';

/** field: 'name' | 'passphrase' | 'passphraseConfirm' | 'birthName' | 'dateOfBirth' | 'sex' | 'personalId' */
export interface FieldError {
  field: string;
  rule: string;
  /** Already localized by the backend; the UI shows it as is. */
  message: string;
}

/** What every command rejects with. */
export interface AppError {
  code: ErrorCode;
  message: string;
  fieldErrors?: FieldError[];
}

export type AppState = 'needsSetup' | 'locked' | 'unlocked';

export interface AppStatus {
  state: AppState;
  operatorName: string | null;
  deviceId: string | null;
  registryUrl: string | null;
  language: Lang;
}

export type Sex = 'male' | 'female' | '';

export interface EnrollmentInput {
  birthName: string;
  /** YYYY-MM-DD, '' if empty. */
  dateOfBirth: string;
  sex: Sex;
  personalId: string;
}

export type EnrollmentField = keyof EnrollmentInput;

export const ENROLLMENT_FIELDS: readonly EnrollmentField[] = [
  'birthName',
  'dateOfBirth',
  'sex',
  'personalId',
];

export type EnrollmentState = 'draft' | 'sealed' | 'uploading' | 'accepted' | 'rejected';

export interface EnrollmentSummary {
  id: string;
  birthName: string;
  personalId: string;
  state: EnrollmentState;
  receiptId: string | null;
  reason: string | null;
  /** RFC 3339. */
  updatedAt: string;
}

/** A draft is saved even when invalid; errors are the current validation problems. */
export interface SaveResult {
  id: string;
  errors: FieldError[];
}

export function emptyInput(): EnrollmentInput {
  return { birthName: '', dateOfBirth: '', sex: '', personalId: '' };
}
