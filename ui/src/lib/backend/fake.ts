import type { Backend } from './backend';
import type {
  BiometricsSheet,
  CameraPreview,
  ExceptionCode,
  FaceCheck,
  FingerResult,
  FingerSheetEntry,
  ScannerInfo,
  AppError,
  AppState,
  AppStatus,
  EnrollmentInput,
  EnrollmentState,
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
 * In-memory stand-in for the Rust core, used by the unit tests and by
 * `npm run dev` in a plain browser.
 *
 * It knows NO validation rule and NO real message: every rule and its text
 * live once, in the `record` crate. By default everything is valid; a test
 * that needs problems scripts them with {@link FakeBackend.scriptValidation}
 * / {@link FakeBackend.scriptOperatorValidation}. The fake's own errors carry
 * obviously fake messages (`[fake] …`) so nobody mistakes them for real text.
 */

export interface FakeOptions {
  state?: AppState;
  operatorName?: string;
  /** Role of the account named operatorName (default supervisor: the first account is one). */
  role?: Role;
  passphrase?: string;
  /** More accounts on the device, each opened by its own passphrase. */
  otherOperators?: FakeOperator[];
  deviceId?: string;
  registryUrl?: string | null;
  language?: Lang;
  enrollments?: FakeRecord[];
  /** Move sealed records through uploading to accepted as the list is polled. */
  simulateUpload?: boolean;
  /** Milliseconds every call waits (0: resolves on the next microtask). */
  latencyMs?: number;
  /** The retention period in days (the core's default: 0). */
  retentionDays?: number;
  /** What sync_status answers besides the counts (which come from the records). */
  sync?: Partial<FakeSync>;
}

/** The part of sync_status a test sets; the counts follow the records. */
export type FakeSync = Pick<
  SyncStatus,
  'lastContactAt' | 'lastAttemptAt' | 'lastError' | 'uploading' | 'nextRetryAt' | 'budgetUntilAt' | 'offline'
>;

const NO_SYNC: FakeSync = {
  lastContactAt: null,
  lastAttemptAt: null,
  lastError: null,
  uploading: false,
  nextRetryAt: null,
  budgetUntilAt: null,
  offline: false,
};

export interface FakeRecord {
  id: string;
  input: EnrollmentInput;
  state: EnrollmentState;
  receiptId: string | null;
  /** The core's sentence for a refusal (tests write whatever they like; the fake knows no reason). */
  reason: string | null;
  reasonAdvice?: string | null;
  reasonCode?: string | null;
  /** Whether redo_rejected accepts it (the core decides this from the reason). */
  canCorrect?: boolean;
  updatedAt: string;
}

export interface FakeOperator extends OperatorInfo {
  passphrase: string;
}

export interface FakeCall {
  cmd: string;
  args: unknown[];
}

/** Scripted answer of validate_enrollment (also used by save_draft and finalise). */
export type EnrollmentScript = (input: EnrollmentInput, lang: Lang) => FieldError[];
/** Scripted field errors of create_operator; any error rejects it with invalidInput. */
export type OperatorScript = (name: string, passphrase: string, passphraseConfirm: string, lang: Lang) => FieldError[];

/** A canned field error with an obviously fake message: `[fake] field/rule`. */
export function fakeFieldError(field: string, rule: string): FieldError {
  return { field, rule, message: `[fake] ${field}/${rule}` };
}

/** The obviously fake message of the fake's AppErrors: `[fake] code`. */
export function fakeErrorMessage(code: ErrorCode): string {
  return `[fake] ${code}`;
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

const noErrors = (): FieldError[] => [];

export class FakeBackend implements Backend {
  state: AppState;
  /** Every account; the signed-in one is signedIn (kept across lock, as the unlock screen names it). */
  operators: FakeOperator[];
  signedIn: FakeOperator | null;
  deviceId: string | null;
  registryUrl: string | null;
  language: Lang;
  records: FakeRecord[];
  retentionDays: number;
  dailyAllowanceMb = 0;
  /** What sync_status answers besides the counts; tests change it between polls. */
  sync: FakeSync;
  readonly calls: FakeCall[] = [];
  private nextId = 1;
  private nextReceipt = 1;
  private readonly simulateUpload: boolean;
  private readonly latencyMs: number;
  private enrollmentScript: EnrollmentScript = noErrors;
  private operatorScript: OperatorScript = noErrors;
  private readonly errorScripts = new Map<string, AppError[]>();

  constructor(opts: FakeOptions = {}) {
    this.state = opts.state ?? 'needsSetup';
    const provisioned = this.state !== 'needsSetup';
    this.operators = [];
    this.signedIn = null;
    if (provisioned) {
      this.signedIn = {
        id: 'op-0001',
        name: opts.operatorName ?? 'Nguyễn Thị Thu',
        role: opts.role ?? 'supervisor',
        passphrase: opts.passphrase ?? 'mật khẩu đúng',
      };
      this.operators = [this.signedIn, ...clone(opts.otherOperators ?? [])];
    }
    this.deviceId = provisioned ? (opts.deviceId ?? 'GD-DEV-0001') : null;
    this.registryUrl = opts.registryUrl === undefined ? 'https://registry.example.invalid' : opts.registryUrl;
    this.language = opts.language ?? 'vi';
    this.records = opts.enrollments ? clone(opts.enrollments) : [];
    this.simulateUpload = opts.simulateUpload ?? false;
    this.latencyMs = opts.latencyMs ?? 0;
    this.retentionDays = opts.retentionDays ?? 0;
    this.sync = { ...NO_SYNC, ...clone(opts.sync ?? {}) };
  }

  // ---- scripting (tests) -----------------------------------------------

  /**
   * Sets what validate_enrollment answers (and what save_draft returns and
   * finalise rejects with). null: back to "no errors".
   */
  scriptValidation(script: EnrollmentScript | null): void {
    this.enrollmentScript = script ?? noErrors;
  }

  /**
   * Sets the field errors create_operator, add_operator, change_passphrase and
   * reset_passphrase reject with (name is '' for a change, the account's name
   * for a reset). null: back to "no errors".
   */
  scriptOperatorValidation(script: OperatorScript | null): void {
    this.operatorScript = script ?? noErrors;
  }

  /** The next calls of cmd reject with these errors, one each, in order. */
  scriptError(cmd: string, ...errors: AppError[]): void {
    this.errorScripts.set(cmd, [...(this.errorScripts.get(cmd) ?? []), ...errors]);
  }

  /** What the core does when a session idles out: the vault closes. */
  idleLock(): void {
    if (this.state === 'unlocked') this.state = 'locked';
  }

  /** What the core does when the registry revokes the device. */
  wipe(): void {
    this.state = 'wiped';
    this.records = [];
    this.operators = [];
    this.signedIn = null;
  }

  /** The name of the signed-in (or last signed-in) account. */
  get operatorName(): string | null {
    return this.signedIn?.name ?? null;
  }

  // ---- helpers ---------------------------------------------------------

  private async reply<T>(cmd: string, args: unknown[], f: () => T): Promise<T> {
    this.calls.push({ cmd, args: clone(args) });
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    else await Promise.resolve();
    const scripted = this.errorScripts.get(cmd)?.shift();
    if (scripted) throw clone(scripted);
    if (this.state === 'wiped' && cmd !== 'app_status' && cmd !== 'set_language') this.fail('wiped');
    const out = f();
    return out === undefined ? out : clone(out);
  }

  private fail(code: ErrorCode, fieldErrors?: FieldError[]): never {
    const err: AppError = { code, message: fakeErrorMessage(code) };
    if (fieldErrors) err.fieldErrors = fieldErrors;
    throw err;
  }

  private status(): AppStatus {
    return {
      state: this.state,
      operatorName: this.operatorName,
      operatorId: this.state === 'unlocked' ? (this.signedIn?.id ?? null) : null,
      role: this.state === 'unlocked' ? (this.signedIn?.role ?? null) : null,
      deviceId: this.deviceId,
      registryUrl: this.registryUrl,
      language: this.language,
    };
  }

  private requireUnlocked(): void {
    if (this.state === 'needsSetup') this.fail('notProvisioned');
    if (this.state === 'locked') this.fail('locked');
  }

  private requireSupervisor(): FakeOperator {
    this.requireUnlocked();
    if (!this.signedIn || this.signedIn.role !== 'supervisor') this.fail('notSupervisor');
    return this.signedIn;
  }

  private checkOperatorForm(name: string, passphrase: string, passphraseConfirm: string): void {
    const errs = clone(this.operatorScript(name, passphrase, passphraseConfirm, this.language));
    if (errs.length > 0) this.fail('invalidInput', errs);
  }

  private info(o: FakeOperator): OperatorInfo {
    return { id: o.id, name: o.name, role: o.role };
  }

  private find(id: string): FakeRecord {
    const r = this.records.find((x) => x.id === id);
    if (!r) this.fail('notFound');
    return r;
  }

  private now(): string {
    return new Date().toISOString();
  }

  private validate(input: EnrollmentInput): FieldError[] {
    return clone(this.enrollmentScript(clone(input), this.language));
  }

  private summary(r: FakeRecord): EnrollmentSummary {
    return {
      id: r.id,
      birthName: r.input.birthName,
      personalId: r.input.personalId,
      state: r.state,
      receiptId: r.receiptId,
      reason: r.reason,
      reasonAdvice: r.state === 'rejected' ? (r.reasonAdvice ?? null) : null,
      reasonCode: r.reasonCode ?? null,
      canCorrect: r.state === 'rejected' && (r.canCorrect ?? false),
      updatedAt: r.updatedAt,
    };
  }

  /** Moves every queued record one step on: sealed → uploading → accepted. */
  advanceUploads(): void {
    for (const r of this.records) {
      if (r.state === 'uploading') {
        this.sync.lastContactAt = this.now();
        r.state = 'accepted';
        r.receiptId = `BN-${String(this.nextReceipt++).padStart(6, '0')}`;
        r.updatedAt = this.now();
      } else if (r.state === 'sealed') {
        r.state = 'uploading';
        r.updatedAt = this.now();
      }
    }
  }

  /** Marks a record as rejected by the registry. */
  rejectRecord(id: string, reason: string, more: Pick<FakeRecord, 'reasonAdvice' | 'reasonCode' | 'canCorrect'> = {}): void {
    const r = this.find(id);
    r.state = 'rejected';
    r.reason = reason;
    Object.assign(r, more);
    r.updatedAt = this.now();
  }

  /** What a discard does: the record's data goes, the row (reason and code) stays. */
  private discard(r: FakeRecord): void {
    r.state = 'purged';
    r.input = { birthName: '', dateOfBirth: '', sex: '', personalId: '' };
    r.reasonAdvice = null;
    r.canCorrect = false;
    r.updatedAt = this.now();
  }

  // ---- Backend ---------------------------------------------------------

  appStatus(): Promise<AppStatus> {
    return this.reply('app_status', [], () => this.status());
  }

  setLanguage(lang: Lang): Promise<AppStatus> {
    return this.reply('set_language', [lang], () => {
      this.language = lang;
      return this.status();
    });
  }

  createOperator(name: string, passphrase: string, passphraseConfirm: string): Promise<AppStatus> {
    return this.reply('create_operator', [name, '***', '***'], () => {
      if (this.state !== 'needsSetup') this.fail('alreadySetUp');
      this.checkOperatorForm(name, passphrase, passphraseConfirm);
      this.signedIn = { id: 'op-0001', name, role: 'supervisor', passphrase };
      this.operators = [this.signedIn];
      this.deviceId = 'GD-DEV-0001';
      this.state = 'unlocked';
      return this.status();
    });
  }

  unlock(passphrase: string): Promise<AppStatus> {
    return this.reply('unlock', ['***'], () => {
      if (this.state === 'needsSetup') this.fail('notProvisioned');
      if (this.state === 'unlocked') return this.status();
      const who = this.operators.find((o) => o.passphrase === passphrase);
      if (!who) this.fail('wrongPassphrase');
      this.signedIn = who;
      this.state = 'unlocked';
      return this.status();
    });
  }

  lock(): Promise<AppStatus> {
    return this.reply('lock', [], () => {
      if (this.state === 'unlocked') this.state = 'locked';
      return this.status();
    });
  }

  listOperators(): Promise<OperatorInfo[]> {
    return this.reply('list_operators', [], () => {
      this.requireUnlocked();
      return this.operators.map((o) => this.info(o));
    });
  }

  addOperator(name: string, role: Role, passphrase: string, passphraseConfirm: string): Promise<OperatorInfo> {
    return this.reply('add_operator', [name, role, '***', '***'], () => {
      this.requireSupervisor();
      this.checkOperatorForm(name, passphrase, passphraseConfirm);
      const added: FakeOperator = { id: `op-${String(this.operators.length + 1).padStart(4, '0')}`, name, role, passphrase };
      this.operators.push(added);
      return this.info(added);
    });
  }

  changePassphrase(current: string, passphrase: string, passphraseConfirm: string): Promise<void> {
    return this.reply('change_passphrase', ['***', '***', '***'], () => {
      this.requireUnlocked();
      const me = this.signedIn;
      if (!me) this.fail('locked');
      this.checkOperatorForm('', passphrase, passphraseConfirm);
      if (current !== me.passphrase) this.fail('wrongPassphrase');
      me.passphrase = passphrase;
    });
  }

  resetPassphrase(operatorId: string, passphrase: string, passphraseConfirm: string): Promise<void> {
    return this.reply('reset_passphrase', [operatorId, '***', '***'], () => {
      this.requireSupervisor();
      const target = this.operators.find((o) => o.id === operatorId);
      if (!target) this.fail('notFound');
      this.checkOperatorForm(target.name, passphrase, passphraseConfirm);
      target.passphrase = passphrase;
    });
  }

  getRetentionDays(): Promise<number> {
    return this.reply('get_retention_days', [], () => {
      this.requireUnlocked();
      return this.retentionDays;
    });
  }

  /** Knows no rule of the field: tests script the core's refusals with scriptError. */
  setRetentionDays(days: string): Promise<number> {
    return this.reply('set_retention_days', [days], () => {
      this.requireSupervisor();
      const n = Number(days.trim());
      this.retentionDays = Number.isFinite(n) ? n : 0;
      return this.retentionDays;
    });
  }

  getDailyAllowanceMb(): Promise<number> {
    return this.reply('get_daily_allowance_mb', [], () => {
      this.requireUnlocked();
      return this.dailyAllowanceMb;
    });
  }

  /** Knows no rule of the field: tests script the core's refusals with scriptError. */
  setDailyAllowanceMb(megabytes: string): Promise<number> {
    return this.reply('set_daily_allowance_mb', [megabytes], () => {
      this.requireSupervisor();
      const n = Number(megabytes.trim());
      this.dailyAllowanceMb = Number.isFinite(n) ? n : 0;
      return this.dailyAllowanceMb;
    });
  }

  validateEnrollment(input: EnrollmentInput): Promise<FieldError[]> {
    return this.reply('validate_enrollment', [input], () => {
      this.requireUnlocked();
      return this.validate(input);
    });
  }

  saveDraft(id: string | null, input: EnrollmentInput): Promise<SaveResult> {
    return this.reply('save_draft', [id, input], () => {
      this.requireUnlocked();
      let r: FakeRecord;
      if (id === null) {
        r = {
          id: `draft-${String(this.nextId++).padStart(4, '0')}`,
          input: clone(input),
          state: 'draft',
          receiptId: null,
          reason: null,
          updatedAt: this.now(),
        };
        this.records.unshift(r);
      } else {
        r = this.find(id);
        if (r.state !== 'draft') this.fail('invalidInput');
        r.input = clone(input);
        r.updatedAt = this.now();
        // newest first
        this.records = [r, ...this.records.filter((x) => x !== r)];
      }
      return { id: r.id, errors: this.validate(input) };
    });
  }

  getDraft(id: string): Promise<EnrollmentInput> {
    return this.reply('get_draft', [id], () => {
      this.requireUnlocked();
      const r = this.find(id);
      if (r.state !== 'draft') this.fail('notFound');
      return r.input;
    });
  }

  finalise(id: string): Promise<EnrollmentSummary> {
    return this.reply('finalise', [id], () => {
      this.requireUnlocked();
      const r = this.find(id);
      if (r.state !== 'draft') this.fail('notFound');
      const errs = this.validate(r.input);
      if (errs.length > 0) this.fail('invalidInput', errs);
      r.state = 'sealed';
      r.updatedAt = this.now();
      this.records = [r, ...this.records.filter((x) => x !== r)];
      return this.summary(r);
    });
  }

  discardRejected(id: string): Promise<void> {
    return this.reply('discard_rejected', [id], () => {
      this.requireUnlocked();
      const r = this.find(id);
      if (r.state !== 'rejected') this.fail('notRejected');
      this.discard(r);
    });
  }

  redoRejected(id: string): Promise<string> {
    return this.reply('redo_rejected', [id], () => {
      this.requireUnlocked();
      const old = this.find(id);
      if (old.state !== 'rejected') this.fail('notRejected');
      if (!(old.canCorrect ?? false)) this.fail('notCorrectable');
      const draft: FakeRecord = {
        id: `draft-${String(this.nextId++).padStart(4, '0')}`,
        input: clone(old.input),
        state: 'draft',
        receiptId: null,
        reason: null,
        updatedAt: this.now(),
      };
      this.records.unshift(draft);
      this.discard(old);
      return draft.id;
    });
  }

  listEnrollments(): Promise<EnrollmentSummary[]> {
    return this.reply('list_enrollments', [], () => {
      this.requireUnlocked();
      if (this.simulateUpload) this.advanceUploads();
      return this.records.map((r) => this.summary(r));
    });
  }

  syncStatus(): Promise<SyncStatus> {
    return this.reply('sync_status', [], () => {
      this.requireUnlocked();
      const count = (...states: EnrollmentState[]): number => this.records.filter((r) => states.includes(r.state)).length;
      return {
        ...this.sync,
        waiting: count('sealed', 'uploading'),
        custody: count('custody'),
        delivered: count('accepted') + this.records.filter((r) => r.state === 'purged' && r.reason === null).length,
        rejected: count('rejected'),
        discarded: this.records.filter((r) => r.state === 'purged' && r.reason !== null).length,
      };
    });
  }

  // ---- capture ---------------------------------------------------------------
  /** What the fake keeps per draft: a portrait score and the ten fingers. */
  captures = new Map<string, { faceQuality: number | null; fingers: FingerSheetEntry[] }>();
  /** The requirement biometrics() answers (the fake knows no age rule). */
  requirement: BiometricsSheet['requirement'] = 'full';
  hasCamera = false;
  scanner: ScannerInfo | null = { makeModel: '[fake] scanner', serial: 'F-1', status: 'ready' };
  /** Scores captureFinger answers, one per call (then 70). */
  fingerScores: number[] = [];
  /** What checkPortrait / cameraPreview answer; an issue makes importPortrait refuse. */
  faceCheck: FaceCheck = { score: 85, faces: 1, issues: [] };

  private captureOf(id: string): { faceQuality: number | null; fingers: FingerSheetEntry[] } {
    let c = this.captures.get(id);
    if (!c) {
      c = {
        faceQuality: null,
        fingers: Array.from({ length: 10 }, (_, i) => ({
          position: i + 1,
          state: 'missing' as const,
          quality: null,
          reason: null,
          detail: null,
        })),
      };
      this.captures.set(id, c);
    }
    return c;
  }

  private sheet(id: string): BiometricsSheet {
    if (!this.records.some((r) => r.id === id)) this.fail('notFound');
    const c = this.captureOf(id);
    return { requirement: this.requirement, faceQuality: c.faceQuality, fingers: c.fingers, hasCamera: this.hasCamera, retryBelow: 40 };
  }

  biometrics(id: string): Promise<BiometricsSheet> {
    return this.reply('biometrics', [id], () => this.sheet(id));
  }
  checkPortrait(image: string): Promise<FaceCheck> {
    return this.reply('check_portrait', [image.length], () => this.faceCheck);
  }
  importPortrait(id: string, image: string): Promise<BiometricsSheet> {
    return this.reply('import_portrait', [id, image.length], () => {
      if (this.faceCheck.issues.length > 0) this.fail('portraitRefused');
      this.captureOf(id).faceQuality = this.faceCheck.score;
      return this.sheet(id);
    });
  }
  cameraPreview(): Promise<CameraPreview> {
    return this.reply('camera_preview', [], () => {
      if (!this.hasCamera) this.fail('camera');
      return { frame: '', check: this.faceCheck };
    });
  }
  takePortraitFromCamera(id: string): Promise<BiometricsSheet> {
    return this.reply('take_portrait_from_camera', [id], () => {
      if (this.faceCheck.issues.length > 0) this.fail('portraitRefused');
      this.captureOf(id).faceQuality = this.faceCheck.score;
      return this.sheet(id);
    });
  }
  portraitImage(id: string): Promise<string | null> {
    return this.reply('portrait_image', [id], () => (this.captureOf(id).faceQuality === null ? null : ''));
  }
  findScanner(): Promise<ScannerInfo | null> {
    return this.reply('find_scanner', [], () => this.scanner);
  }
  captureFinger(id: string, position: number): Promise<FingerResult> {
    return this.reply('capture_finger', [id, position], () => {
      if (!this.scanner) this.fail('noScanner');
      const score = this.fingerScores.shift() ?? 70;
      const f = this.captureOf(id).fingers[position - 1];
      if (!f) this.fail('notFound');
      const kept = f.state !== 'captured' || score > (f.quality ?? 0);
      if (kept) Object.assign(f, { state: 'captured', quality: score, reason: null, detail: null });
      return { position, score, issues: [], kept, best: f.quality ?? score };
    });
  }
  exceptFinger(id: string, position: number, reason: ExceptionCode, detail: string): Promise<BiometricsSheet> {
    return this.reply('except_finger', [id, position, reason, detail], () => {
      const f = this.captureOf(id).fingers[position - 1];
      if (!f) this.fail('notFound');
      if (!['missing', 'bandaged', 'unreadable', 'other'].includes(reason)) this.fail('captureRefused');
      Object.assign(f, { state: 'excepted', quality: null, reason, detail: reason === 'other' ? detail : null });
      return this.sheet(id);
    });
  }
  clearFinger(id: string, position: number): Promise<BiometricsSheet> {
    return this.reply('clear_finger', [id, position], () => {
      const f = this.captureOf(id).fingers[position - 1];
      if (!f) this.fail('notFound');
      Object.assign(f, { state: 'missing', quality: null, reason: null, detail: null });
      return this.sheet(id);
    });
  }
}
