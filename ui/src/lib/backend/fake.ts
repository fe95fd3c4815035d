import type { Backend } from './backend';
import type {
  AppError,
  AppState,
  AppStatus,
  EnrollmentInput,
  EnrollmentState,
  EnrollmentSummary,
  FieldError,
  Lang,
  SaveResult,
} from './types';

/**
 * In-memory stand-in for the Rust core, used by the unit tests and by
 * `npm run dev` in a plain browser. Its rules and messages copy a subset of
 * the `record` crate's so that screens look realistic; the real rules live
 * in Rust only.
 */

export interface FakeOptions {
  state?: AppState;
  operatorName?: string;
  passphrase?: string;
  deviceId?: string;
  registryUrl?: string | null;
  language?: Lang;
  enrollments?: FakeRecord[];
  /** Move sealed records through uploading to accepted as the list is polled. */
  simulateUpload?: boolean;
  /** Milliseconds every call waits (0: resolves on the next microtask). */
  latencyMs?: number;
  /** Today, YYYY-MM-DD (for the date-in-future rule). */
  today?: string;
}

export interface FakeRecord {
  id: string;
  input: EnrollmentInput;
  state: EnrollmentState;
  receiptId: string | null;
  reason: string | null;
  updatedAt: string;
}

export interface FakeCall {
  cmd: string;
  args: unknown[];
}

const LABELS: Record<string, Record<Lang, string>> = {
  name: { vi: 'Tên người thu nhận', en: 'Operator name' },
  passphrase: { vi: 'Cụm mật khẩu', en: 'Passphrase' },
  passphraseConfirm: { vi: 'Cụm mật khẩu nhập lại', en: 'Repeated passphrase' },
  birthName: { vi: 'Họ, chữ đệm và tên khai sinh', en: 'Birth name' },
  dateOfBirth: { vi: 'Ngày sinh', en: 'Date of birth' },
  sex: { vi: 'Giới tính', en: 'Sex' },
  personalId: { vi: 'Số định danh cá nhân', en: 'Personal ID number' },
};

const RULES: Record<string, Record<Lang, string>> = {
  required: { vi: 'không được để trống.', en: 'is required.' },
  tooShort: { vi: 'phải có ít nhất 8 ký tự.', en: 'must be at least 8 characters.' },
  mismatch: {
    vi: 'không khớp với cụm mật khẩu đã nhập.',
    en: 'does not match the passphrase.',
  },
  tooLong: { vi: 'không được dài quá 100 ký tự.', en: 'must be at most 100 characters.' },
  nameCharacters: {
    vi: "chỉ được gồm chữ cái, dấu cách, dấu nháy (') và dấu gạch nối (-).",
    en: "may only contain letters, spaces, apostrophes (') and hyphens (-).",
  },
  invalidDate: {
    vi: 'không phải là ngày hợp lệ (năm-tháng-ngày, ví dụ 1990-01-31).',
    en: 'is not a valid date (year-month-day, e.g. 1990-01-31).',
  },
  dateInFuture: { vi: 'không được sau ngày hôm nay.', en: 'cannot be after today.' },
  dateTooEarly: { vi: 'không được trước năm 1900.', en: 'cannot be before 1900.' },
  invalidSex: { vi: 'phải chọn Nam hoặc Nữ.', en: 'must be male or female.' },
  notTwelveDigits: { vi: 'phải gồm đúng 12 chữ số.', en: 'must be exactly 12 digits.' },
};

const MESSAGES: Record<string, Record<Lang, string>> = {
  wrongPassphrase: {
    vi: 'Cụm mật khẩu không đúng. Vui lòng thử lại.',
    en: 'Wrong passphrase. Please try again.',
  },
  invalidInput: {
    vi: 'Thông tin chưa hợp lệ. Vui lòng sửa các ô được đánh dấu.',
    en: 'Some information is not valid. Please fix the marked fields.',
  },
  locked: { vi: 'Ứng dụng đang khóa.', en: 'The app is locked.' },
  notFound: { vi: 'Không tìm thấy hồ sơ.', en: 'Record not found.' },
  alreadySetUp: { vi: 'Máy này đã có người thu nhận.', en: 'This device is already set up.' },
  notProvisioned: {
    vi: 'Chưa tạo tài khoản người thu nhận.',
    en: 'No operator account has been created yet.',
  },
};

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

function isValidDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const dt = new Date(Date.UTC(y, mo - 1, d));
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === mo - 1 && dt.getUTCDate() === d;
}

export class FakeBackend implements Backend {
  state: AppState;
  operatorName: string | null;
  passphrase: string | null;
  deviceId: string | null;
  registryUrl: string | null;
  language: Lang;
  records: FakeRecord[];
  readonly calls: FakeCall[] = [];
  private nextId = 1;
  private nextReceipt = 1;
  private readonly simulateUpload: boolean;
  private readonly latencyMs: number;
  private readonly today: string;

  constructor(opts: FakeOptions = {}) {
    this.state = opts.state ?? 'needsSetup';
    const provisioned = this.state !== 'needsSetup';
    this.operatorName = provisioned ? (opts.operatorName ?? 'Nguyễn Thị Thu') : null;
    this.passphrase = provisioned ? (opts.passphrase ?? 'mật khẩu đúng') : null;
    this.deviceId = provisioned ? (opts.deviceId ?? 'GD-DEV-0001') : null;
    this.registryUrl = opts.registryUrl === undefined ? 'https://registry.example.invalid' : opts.registryUrl;
    this.language = opts.language ?? 'vi';
    this.records = opts.enrollments ? clone(opts.enrollments) : [];
    this.simulateUpload = opts.simulateUpload ?? false;
    this.latencyMs = opts.latencyMs ?? 0;
    this.today = opts.today ?? new Date().toISOString().slice(0, 10);
  }

  // ---- helpers ---------------------------------------------------------

  private async reply<T>(cmd: string, args: unknown[], f: () => T): Promise<T> {
    this.calls.push({ cmd, args: clone(args) });
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    else await Promise.resolve();
    return clone(f());
  }

  private fail(code: AppError['code'], fieldErrors?: FieldError[]): never {
    const message = MESSAGES[code]?.[this.language] ?? 'Lỗi nội bộ.';
    const err: AppError = { code, message };
    if (fieldErrors) err.fieldErrors = fieldErrors;
    throw err;
  }

  private fieldError(field: string, rule: string): FieldError {
    const label = LABELS[field]?.[this.language] ?? field;
    const text = RULES[rule]?.[this.language] ?? rule;
    return { field, rule, message: `${label}: ${text}` };
  }

  private status(): AppStatus {
    return {
      state: this.state,
      operatorName: this.operatorName,
      deviceId: this.deviceId,
      registryUrl: this.registryUrl,
      language: this.language,
    };
  }

  private requireUnlocked(): void {
    if (this.state === 'needsSetup') this.fail('notProvisioned');
    if (this.state === 'locked') this.fail('locked');
  }

  private find(id: string): FakeRecord {
    const r = this.records.find((x) => x.id === id);
    if (!r) this.fail('notFound');
    return r;
  }

  private now(): string {
    return new Date().toISOString();
  }

  validate(input: EnrollmentInput): FieldError[] {
    const errs: FieldError[] = [];
    const name = input.birthName.trim();
    if (name === '') errs.push(this.fieldError('birthName', 'required'));
    else if ([...name].length > 100) errs.push(this.fieldError('birthName', 'tooLong'));
    else if (!/^[\p{L}\p{M}' \-’]+$/u.test(name)) errs.push(this.fieldError('birthName', 'nameCharacters'));

    const dob = input.dateOfBirth.trim();
    if (dob === '') errs.push(this.fieldError('dateOfBirth', 'required'));
    else if (!isValidDate(dob)) errs.push(this.fieldError('dateOfBirth', 'invalidDate'));
    else if (dob < '1900-01-01') errs.push(this.fieldError('dateOfBirth', 'dateTooEarly'));
    else if (dob > this.today) errs.push(this.fieldError('dateOfBirth', 'dateInFuture'));

    if (input.sex !== 'male' && input.sex !== 'female') errs.push(this.fieldError('sex', 'invalidSex'));

    const pid = input.personalId.replace(/\s+/g, '');
    if (pid === '') errs.push(this.fieldError('personalId', 'required'));
    else if (!/^[0-9]{12}$/.test(pid)) errs.push(this.fieldError('personalId', 'notTwelveDigits'));
    return errs;
  }

  private summary(r: FakeRecord): EnrollmentSummary {
    return {
      id: r.id,
      birthName: r.input.birthName.trim(),
      personalId: r.input.personalId.replace(/\s+/g, ''),
      state: r.state,
      receiptId: r.receiptId,
      reason: r.reason,
      updatedAt: r.updatedAt,
    };
  }

  /** Moves every queued record one step on: sealed → uploading → accepted. */
  advanceUploads(): void {
    for (const r of this.records) {
      if (r.state === 'uploading') {
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
  rejectRecord(id: string, reason: string): void {
    const r = this.find(id);
    r.state = 'rejected';
    r.reason = reason;
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
      const errs: FieldError[] = [];
      if (name.trim() === '') errs.push(this.fieldError('name', 'required'));
      if (passphrase === '') errs.push(this.fieldError('passphrase', 'required'));
      else if ([...passphrase].length < 8) errs.push(this.fieldError('passphrase', 'tooShort'));
      if (passphraseConfirm !== passphrase) errs.push(this.fieldError('passphraseConfirm', 'mismatch'));
      if (errs.length > 0) this.fail('invalidInput', errs);
      this.operatorName = name.trim();
      this.passphrase = passphrase;
      this.deviceId = 'GD-DEV-0001';
      this.state = 'unlocked';
      return this.status();
    });
  }

  unlock(passphrase: string): Promise<AppStatus> {
    return this.reply('unlock', ['***'], () => {
      if (this.state === 'needsSetup') this.fail('notProvisioned');
      if (passphrase !== this.passphrase) this.fail('wrongPassphrase');
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

  listEnrollments(): Promise<EnrollmentSummary[]> {
    return this.reply('list_enrollments', [], () => {
      this.requireUnlocked();
      if (this.simulateUpload) this.advanceUploads();
      return this.records.map((r) => this.summary(r));
    });
  }
}
