import { invoke } from '@tauri-apps/api/core';
import { toAppError, type Backend } from './backend';
import type {
  BiometricsSheet,
  CameraPreview,
  ExceptionCode,
  FaceCheck,
  FingerResult,
  ScannerInfo,
  AppStatus,
  EnrollmentInput,
  EnrollmentSummary,
  FieldError,
  Lang,
  OperatorInfo,
  Role,
  SaveResult,
  SyncStatus,
} from './types';

/** True inside the Tauri webview. */
export function isTauri(): boolean {
  return typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw toAppError(e);
  }
}

/** The real backend: Tauri commands implemented in src-tauri. */
export class TauriBackend implements Backend {
  appStatus(): Promise<AppStatus> {
    return call('app_status');
  }
  setLanguage(lang: Lang): Promise<AppStatus> {
    return call('set_language', { lang });
  }
  createOperator(name: string, passphrase: string, passphraseConfirm: string): Promise<AppStatus> {
    return call('create_operator', { name, passphrase, passphraseConfirm });
  }
  unlock(passphrase: string): Promise<AppStatus> {
    return call('unlock', { passphrase });
  }
  lock(): Promise<AppStatus> {
    return call('lock');
  }
  listOperators(): Promise<OperatorInfo[]> {
    return call('list_operators');
  }
  addOperator(name: string, role: Role, passphrase: string, passphraseConfirm: string): Promise<OperatorInfo> {
    return call('add_operator', { name, role, passphrase, passphraseConfirm });
  }
  async changePassphrase(current: string, passphrase: string, passphraseConfirm: string): Promise<void> {
    await call('change_passphrase', { current, passphrase, passphraseConfirm });
  }
  async resetPassphrase(operatorId: string, passphrase: string, passphraseConfirm: string): Promise<void> {
    await call('reset_passphrase', { operatorId, passphrase, passphraseConfirm });
  }
  getRetentionDays(): Promise<number> {
    return call('get_retention_days');
  }
  setRetentionDays(days: string): Promise<number> {
    return call('set_retention_days', { days });
  }
  getDailyAllowanceMb(): Promise<number> {
    return call('get_daily_allowance_mb');
  }
  setDailyAllowanceMb(megabytes: string): Promise<number> {
    return call('set_daily_allowance_mb', { megabytes });
  }
  validateEnrollment(input: EnrollmentInput): Promise<FieldError[]> {
    return call('validate_enrollment', { input });
  }
  saveDraft(id: string | null, input: EnrollmentInput): Promise<SaveResult> {
    return call('save_draft', { id, input });
  }
  getDraft(id: string): Promise<EnrollmentInput> {
    return call('get_draft', { id });
  }
  finalise(id: string): Promise<EnrollmentSummary> {
    return call('finalise', { id });
  }
  async discardRejected(id: string): Promise<void> {
    await call('discard_rejected', { id });
  }
  redoRejected(id: string): Promise<string> {
    return call('redo_rejected', { id });
  }
  listEnrollments(): Promise<EnrollmentSummary[]> {
    return call('list_enrollments');
  }
  syncStatus(): Promise<SyncStatus> {
    return call('sync_status');
  }
  biometrics(id: string): Promise<BiometricsSheet> {
    return call('biometrics', { id });
  }
  checkPortrait(image: string): Promise<FaceCheck> {
    return call('check_portrait', { image });
  }
  importPortrait(id: string, image: string): Promise<BiometricsSheet> {
    return call('import_portrait', { id, image });
  }
  cameraPreview(): Promise<CameraPreview> {
    return call('camera_preview');
  }
  takePortraitFromCamera(id: string): Promise<BiometricsSheet> {
    return call('take_portrait_from_camera', { id });
  }
  portraitImage(id: string): Promise<string | null> {
    return call('portrait_image', { id });
  }
  findScanner(): Promise<ScannerInfo | null> {
    return call('find_scanner');
  }
  captureFinger(id: string, position: number): Promise<FingerResult> {
    return call('capture_finger', { id, position });
  }
  exceptFinger(id: string, position: number, reason: ExceptionCode, detail: string): Promise<BiometricsSheet> {
    return call('except_finger', { id, position, reason, detail });
  }
  clearFinger(id: string, position: number): Promise<BiometricsSheet> {
    return call('clear_finger', { id, position });
  }
}
