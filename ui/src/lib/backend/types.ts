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
  | 'notADraft'
  /** discard_rejected / redo_rejected on a record the registry did not refuse (or one already dealt with). */
  | 'notRejected'
  /** redo_rejected on a refusal that is not about the record's content (the device or the bundle is at fault). */
  | 'notCorrectable'
  | 'tooManyAttempts'
  | 'notSupervisor'
  | 'passphraseInUse'
  | 'diskFull'
  | 'readOnly'
  | 'wiped'
  /** A vault file is damaged, is not a Ghi Danh vault, or is another device's: it does not open. Nothing was deleted. */
  | 'vaultCorrupt'
  /** A photo file, a camera frame, a scanner's answer or a finger exception was refused; the message says why. */
  | 'captureRefused'
  /** The photo fails a portrait check; the message lists what to fix. */
  | 'portraitRefused'
  /** No fingerprint scanner answers. */
  | 'noScanner'
  /** The scanner answered, but without a print (no finger, timeout, busy, unplugged). */
  | 'scanner'
  /** No picture from the camera. */
  | 'camera'
  | 'internal';

/** field: 'name' | 'current' | 'passphrase' | 'passphraseConfirm' | 'birthName' | 'dateOfBirth' | 'sex' | 'personalId' | 'retentionDays' */
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
  /** tooManyAttempts: seconds until the next unlock try is allowed. */
  retryAfterSecs?: number;
}

/** wiped: the registry revoked this device and its data was destroyed; nothing works any more. */
export type AppState = 'needsSetup' | 'locked' | 'unlocked' | 'wiped';

export type Role = 'operator' | 'supervisor';

export interface AppStatus {
  state: AppState;
  operatorName: string | null;
  /** The signed-in account's id (null unless unlocked). */
  operatorId: string | null;
  /** The signed-in account's role (null unless unlocked). */
  role: Role | null;
  deviceId: string | null;
  registryUrl: string | null;
  language: Lang;
}

/** One account on this device (list_operators, add_operator). */
export interface OperatorInfo {
  id: string;
  name: string;
  role: Role;
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

export type EnrollmentState =
  | 'draft'
  | 'finalised'
  | 'approved'
  | 'sealed'
  | 'uploading'
  | 'custody'
  | 'accepted'
  | 'rejected'
  | 'purged';

export interface EnrollmentSummary {
  id: string;
  birthName: string;
  personalId: string;
  state: EnrollmentState;
  receiptId: string | null;
  /** Why the registry refused it, a sentence already localized by the core (rejected, and discarded ones). */
  reason: string | null;
  /** What the operator can do about the refusal, localized; null once discarded. */
  reasonAdvice: string | null;
  /** The receipt's reason code (for support), e.g. invalid_record:personalId/notTwelveDigits. */
  reasonCode: string | null;
  /** Rejected for its content (or its bundle id): redo_rejected accepts it. */
  canCorrect: boolean;
  /** RFC 3339. */
  updatedAt: string;
}

/** Why the last attempt to reach the registry failed; message already localized by the core. */
export interface SyncError {
  /** 'unreachable' | 'registryError' | 'registrationRefused' | 'badAnswer' | 'local' */
  code: string;
  message: string;
}

/** sync_status: the background sync as the panel on the main screen shows it. Times RFC 3339, null when never. */
export interface SyncStatus {
  /** The last time the registry answered (kept across restarts). */
  lastContactAt: string | null;
  lastAttemptAt: string | null;
  /** null when the last attempt succeeded (or none was made). */
  lastError: SyncError | null;
  /** A bundle is being sent right now. */
  uploading: boolean;
  /** When the kit tries again, while something waits. */
  nextRetryAt: string | null;
  /** The sync budget (data allowance) is spent: nothing is sent until then. */
  budgetUntilAt: string | null;
  /** The registry was unreachable at the last attempt. */
  offline: boolean;
  /** Sealed, not yet receipted (sealed or being sent). */
  waiting: number;
  /** Held by a district relay, the registry's receipt still to come. */
  custody: number;
  /** Accepted by the registry (purged ones included). */
  delivered: number;
  /** Refused, waiting for an operator's decision. */
  rejected: number;
  /** Refused ones an operator discarded (or redid as a new draft). */
  discarded: number;
}

/** A draft is saved even when invalid; errors are the current validation problems. */
export interface SaveResult {
  id: string;
  errors: FieldError[];
}

export function emptyInput(): EnrollmentInput {
  return { birthName: '', dateOfBirth: '', sex: '', personalId: '' };
}

/** One thing to fix, already in the operator's language. */
export interface CaptureIssue {
  code: string;
  message: string;
}

/** A portrait check: the score and what to fix (no issues: the photo may be taken). */
export interface FaceCheck {
  score: number;
  faces: number;
  issues: CaptureIssue[];
}

/** One camera frame (base64 JPEG or PNG) and its check. */
export interface CameraPreview {
  frame: string;
  check: FaceCheck;
}

export type FingerState = 'missing' | 'captured' | 'excepted';
export type ExceptionCode = 'missing' | 'bandaged' | 'unreadable' | 'other';

/** One finger on the capture sheet; position is ISO/IEC 19794-4's (1 right thumb … 10 left little). */
export interface FingerSheetEntry {
  position: number;
  state: FingerState;
  quality: number | null;
  reason: ExceptionCode | null;
  detail: string | null;
}

/** The capture sheet of a draft. */
export interface BiometricsSheet {
  /** 'none' (under 6: nothing is taken), 'withRepresentative', 'full'; null until the date of birth is known. */
  requirement: 'none' | 'withRepresentative' | 'full' | null;
  faceQuality: number | null;
  fingers: FingerSheetEntry[];
  hasCamera: boolean;
  /** Below this score the operator is asked to try again. */
  retryBelow: number;
}

/** What one finger capture did. */
export interface FingerResult {
  position: number;
  score: number;
  issues: CaptureIssue[];
  /** This capture is the kept one (false: an earlier one scored higher and stays). */
  kept: boolean;
  best: number;
}

/** The fingerprint scanner the kit found. */
export interface ScannerInfo {
  makeModel: string;
  serial: string;
  status: 'ready' | 'busy' | 'notReady' | 'notRegistered';
}
