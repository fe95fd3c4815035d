import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { App } from '../app';
import { FakeBackend, fakeErrorMessage, fakeFieldError, type FakeRecord } from '../backend/fake';
import type { FieldError } from '../backend/types';
import { $, $input, boot, key, text, tick, type } from '../testing';
import { AUTOSAVE_DELAY_MS, AUTOSAVE_MAX_WAIT_MS, SEALED_NOTICE_MS, VALIDATE_DELAY_MS } from './form';

let app: App | null = null;

beforeEach(() => {
  vi.useFakeTimers();
  localStorage.clear();
});
afterEach(() => {
  app?.dispose();
  app = null;
  vi.useRealTimers();
});

const T = '2025-03-01T08:30:00Z';
function rec(id: string, state: FakeRecord['state'], extra: Partial<FakeRecord> = {}): FakeRecord {
  return {
    id,
    input: { birthName: 'Nguyễn Văn An', dateOfBirth: '1990-01-31', sex: 'male', personalId: '001090123456' },
    state,
    receiptId: null,
    reason: null,
    updatedAt: T,
    ...extra,
  };
}

function unlocked(records: FakeRecord[] = []): FakeBackend {
  return new FakeBackend({
    state: 'unlocked',
    operatorName: 'Phạm Minh Đức',
    deviceId: 'GD-7F3A',
    registryUrl: 'https://dangky.example.vn',
    enrollments: records,
  });
}

function row(id: string): HTMLElement {
  return $(`#enrollment-list [data-enrollment-id="${id}"]`);
}

function calls(fake: FakeBackend, cmd: string): unknown[][] {
  return fake.calls.filter((c) => c.cmd === cmd).map((c) => c.args);
}

function lastCall(fake: FakeBackend, cmd: string): unknown[] | undefined {
  const all = calls(fake, cmd);
  return all[all.length - 1];
}

async function fillValid(): Promise<void> {
  type('#f-birthName', 'Hoàng Thị Lan');
  type('#f-dateOfBirth', '1985-07-15');
  type('#f-sex', 'female');
  type('#f-personalId', '079185000123');
  await tick(0);
}

describe('main screen', () => {
  it('shows the operator, device and registry, with focus on the first field', async () => {
    app = await boot(unlocked());
    expect($('[data-screen="main"]')).toBeTruthy();
    expect(text('#operator-name')).toBe('Phạm Minh Đức');
    expect(text('#device-id')).toBe('GD-7F3A');
    expect(text('#registry-url')).toBe('https://dangky.example.vn');
    expect(document.activeElement).toBe($('#f-birthName'));
    expect(text('label[for="f-birthName"]')).toBe('Họ, chữ đệm và tên khai sinh');
    expect($('#f-dateOfBirth').getAttribute('type')).toBe('date');
    expect($('#f-personalId').getAttribute('inputmode')).toBe('numeric');
    expect([...$input('#f-sex').querySelectorAll('option')].map((o) => o.textContent)).toEqual(['— Chọn —', 'Nam', 'Nữ']);
    expect(text('#btn-save')).toBe('Lưu nháp');
    expect(text('#btn-finalise')).toBe('Hoàn tất và niêm phong');
    expect(text('#btn-new')).toBe('Hồ sơ mới');
  });

  it('renders each record with its state label, receipt id and rejection reason', async () => {
    const fake = unlocked([
      rec('e-3', 'draft', { input: { birthName: 'Đỗ Quang Huy', dateOfBirth: '', sex: '', personalId: '' } }),
      rec('e-2', 'accepted', { receiptId: 'BN-000042' }),
      rec('e-1', 'rejected', { reason: 'Số định danh đã được đăng ký.' }),
      rec('e-0', 'uploading'),
      rec('e-4', 'sealed'),
    ]);
    app = await boot(fake);
    const rows = [...document.querySelectorAll<HTMLElement>('#enrollment-list [data-enrollment-id]')];
    expect(rows.map((r) => [r.dataset['enrollmentId'], r.dataset['state']])).toEqual([
      ['e-3', 'draft'],
      ['e-2', 'accepted'],
      ['e-1', 'rejected'],
      ['e-0', 'uploading'],
      ['e-4', 'sealed'],
    ]);
    const label = (id: string): string => row(id).querySelector('.state-label')?.textContent ?? '';
    expect(label('e-3')).toBe('Nháp');
    expect(label('e-2')).toBe('Đã gửi, trung tâm đã chấp nhận');
    expect(label('e-1')).toBe('Bị trung tâm từ chối');
    expect(label('e-0')).toBe('Đang gửi');
    expect(label('e-4')).toBe('Đã niêm phong, chờ gửi');
    expect(row('e-2').querySelector('.receipt-id')?.textContent).toBe('BN-000042');
    expect(row('e-3').querySelector('.receipt-id')?.textContent).toBe('');
    expect(row('e-1').querySelector('.reason')?.textContent).toContain('Số định danh đã được đăng ký.');
    expect(row('e-2').querySelector('.name')?.textContent).toBe('Nguyễn Văn An');
    expect(row('e-2').querySelector('.personal-id')?.textContent).toBe('001090123456');
  });

  it('a purged record says its data left the device and keeps its receipt id', async () => {
    const empty = { birthName: '', dateOfBirth: '', sex: '' as const, personalId: '' };
    const fake = unlocked([
      rec('e-5', 'purged', { input: empty, receiptId: 'BN-000043' }),
      rec('e-6', 'custody'),
      rec('e-7', 'finalised'),
    ]);
    app = await boot(fake);
    const label = (id: string): string => row(id).querySelector('.state-label')?.textContent ?? '';
    expect(label('e-5')).toBe('Đã gửi xong, dữ liệu đã xoá khỏi máy');
    expect(label('e-6')).toBe('Trạm huyện đã nhận');
    expect(label('e-7')).toBe('Chờ duyệt');
    expect(row('e-5').querySelector('.name')?.textContent).toBe('(dữ liệu cá nhân đã xoá theo thời hạn lưu giữ)');
    expect(row('e-5').querySelector('.receipt-id')?.textContent).toBe('BN-000043');
  });

  it('validates while typing (debounced) and on blur, showing the backend message', async () => {
    const fake = unlocked();
    // Canned answers keyed on the exact input; the rules themselves live in Rust.
    fake.scriptValidation((input) => [
      fakeFieldError('birthName', 'required'),
      ...(input.personalId === '12345' ? [fakeFieldError('personalId', 'notTwelveDigits')] : []),
    ]);
    app = await boot(fake);
    type('#f-personalId', '12345');
    await tick(VALIDATE_DELAY_MS - 10);
    expect(text('[data-error-for="personalId"]')).toBe('');
    await tick(10);
    expect(lastCall(fake, 'validate_enrollment')).toEqual([{ birthName: '', dateOfBirth: '', sex: '', personalId: '12345' }]);
    expect(text('[data-error-for="personalId"]')).toBe('[fake] personalId/notTwelveDigits');
    expect($('#f-personalId').getAttribute('aria-invalid')).toBe('true');
    // Untouched fields show nothing yet.
    expect(text('[data-error-for="birthName"]')).toBe('');
    expect($('#f-birthName').hasAttribute('aria-invalid')).toBe(false);

    type('#f-personalId', '001090123456');
    $('#f-personalId').blur();
    await tick();
    expect(text('[data-error-for="personalId"]')).toBe('');
    expect($('#f-personalId').hasAttribute('aria-invalid')).toBe(false);
    expect(calls(fake, 'validate_enrollment').length).toBeGreaterThanOrEqual(2);
    expect(text('[data-error-for="birthName"]')).toBe('');
  });

  it('autosaves one second after the first unsaved keystroke, always into the same draft', async () => {
    const fake = unlocked();
    app = await boot(fake);
    type('#f-birthName', 'Võ');
    await tick(500);
    type('#f-birthName', 'Võ Thị');
    // Not one second after the last keystroke (a pure debounce): the max-wait counts from
    // the first unsaved one, and the save takes what the field holds by then.
    await tick(AUTOSAVE_MAX_WAIT_MS - 500 - 10);
    expect(calls(fake, 'save_draft')).toHaveLength(0);
    await tick(10);
    expect(calls(fake, 'save_draft')).toEqual([[null, { birthName: 'Võ Thị', dateOfBirth: '', sex: '', personalId: '' }]]);

    type('#f-birthName', 'Võ Thị Sáu');
    await tick(AUTOSAVE_DELAY_MS);
    expect(calls(fake, 'save_draft')[1]?.[0]).toBe('draft-0001');
    expect(fake.records).toHaveLength(1);
    await tick(0);
    expect(row('draft-0001').dataset['state']).toBe('draft');
    expect(row('draft-0001').querySelector('.name')?.textContent).toBe('Võ Thị Sáu');
    expect(row('draft-0001').getAttribute('aria-current')).toBe('true');
    expect(text('#form-context')).toContain('draft-0001');
  });

  it('saves at least once a second while the operator types without a pause (max-wait)', async () => {
    const fake = unlocked();
    app = await boot(fake);
    // What was issued when, and what the field held at that moment.
    const typed: string[] = [];
    const saves: { at: number; saved: string; onScreen: string; lastTyped: string | undefined }[] = [];
    const saveDraft = fake.saveDraft.bind(fake);
    vi.spyOn(fake, 'saveDraft').mockImplementation((id, input) => {
      saves.push({ at: Date.now(), saved: input.birthName, onScreen: $input('#f-birthName').value, lastTyped: typed[typed.length - 1] });
      return saveDraft(id, input);
    });
    const start = Date.now();
    const full = 'Nguyễn Thị Minh Khai';
    // One keystroke every 200 ms for 3 s: never a pause as long as the debounce.
    for (let at = 0; at < 3000; at += 200) {
      const value = full.slice(0, typed.length + 1);
      type('#f-birthName', value);
      typed.push(value);
      await tick(200);
    }
    const issued = saves.map((s) => ({ ...s, at: s.at - start }));
    // Each second of typing has its save; without the max-wait there would be none yet.
    for (const end of [1000, 2000, 3000]) {
      expect(issued.some((s) => s.at > end - AUTOSAVE_MAX_WAIT_MS && s.at <= end), `a save in (${end - 1000}, ${end}] ms`).toBe(true);
    }
    for (const s of issued) {
      // The latest text at that moment: what the field held, the last keystroke before it.
      expect(s.saved).toBe(s.onScreen);
      expect(s.saved).toBe(s.lastTyped);
    }
    // All into one draft.
    expect(calls(fake, 'save_draft').map((c) => c[0])).toEqual([null, ...issued.slice(1).map(() => 'draft-0001')]);
    // Once the typing stops, the last keystroke is saved too.
    await tick(AUTOSAVE_DELAY_MS);
    expect(fake.records[0]?.input.birthName).toBe(typed[typed.length - 1]);
  });

  it('autosave shows the errors the save returned, for touched fields only', async () => {
    const fake = unlocked();
    fake.scriptValidation(() => [fakeFieldError('birthName', 'nameCharacters'), fakeFieldError('sex', 'invalidSex')]);
    app = await boot(fake);
    type('#f-birthName', 'Võ 2');
    await tick(AUTOSAVE_DELAY_MS);
    expect(calls(fake, 'save_draft')).toHaveLength(1);
    expect(text('[data-error-for="birthName"]')).toBe('[fake] birthName/nameCharacters');
    expect($('#f-birthName').getAttribute('aria-invalid')).toBe('true');
    expect(text('[data-error-for="sex"]')).toBe('');
    expect($('#f-sex').hasAttribute('aria-invalid')).toBe(false);
    // An autosave says nothing on the banner.
    expect(text('#banner')).toBe('');
  });

  it('Ctrl+S saves at once and shows the current problems', async () => {
    const fake = unlocked();
    fake.scriptValidation(() => [fakeFieldError('personalId', 'required')]);
    app = await boot(fake);
    type('#f-birthName', 'Lý Thường Kiệt');
    key('s', { ctrlKey: true });
    await tick(0);
    expect(calls(fake, 'save_draft')).toHaveLength(1);
    expect(text('#banner')).toBe('Đã lưu nháp.');
    // Ctrl+S shows every problem, untouched fields too.
    expect(text('[data-error-for="personalId"]')).toBe('[fake] personalId/required');
    expect($('#f-personalId').getAttribute('aria-invalid')).toBe('true');
    // The pending autosave has nothing new to write.
    await tick(AUTOSAVE_DELAY_MS);
    expect(calls(fake, 'save_draft')).toHaveLength(1);
  });

  it('Ctrl+Enter finalises a valid record and clears the form for the next person', async () => {
    const fake = unlocked();
    app = await boot(fake);
    await fillValid();
    key('Enter', { ctrlKey: true });
    await tick(0);
    expect(calls(fake, 'finalise')).toEqual([['draft-0001']]);
    expect($input('#f-birthName').value).toBe('');
    expect($input('#f-personalId').value).toBe('');
    expect($input('#f-sex').value).toBe('');
    expect(text('#banner')).toBe('Đã niêm phong hồ sơ của Hoàng Thị Lan, đang chờ gửi.');
    expect(document.activeElement).toBe($('#f-birthName'));
    expect(row('draft-0001').dataset['state']).toBe('sealed');
    expect(row('draft-0001').querySelector('.state-label')?.textContent).toBe('Đã niêm phong, chờ gửi');

    // The next person's record is a new draft; its first keystroke clears the notice.
    type('#f-birthName', 'B');
    expect(text('#banner')).toBe('');
    type('#f-birthName', 'Bùi Văn Tâm');
    await tick(AUTOSAVE_DELAY_MS);
    expect(lastCall(fake, 'save_draft')?.[0]).toBeNull();
  });

  it('the sealed notice goes after a few seconds when nobody types', async () => {
    const fake = unlocked();
    app = await boot(fake);
    await fillValid();
    $('#btn-finalise').click();
    await tick(0);
    expect(text('#banner')).toBe('Đã niêm phong hồ sơ của Hoàng Thị Lan, đang chờ gửi.');
    await tick(SEALED_NOTICE_MS - 10);
    expect(text('#banner')).toBe('Đã niêm phong hồ sơ của Hoàng Thị Lan, đang chờ gửi.');
    await tick(10);
    expect(text('#banner')).toBe('');
  });

  it('the sealed notice timer never clears a later message', async () => {
    const fake = unlocked();
    app = await boot(fake);
    await fillValid();
    $('#btn-finalise').click();
    await tick(0);
    await tick(SEALED_NOTICE_MS / 2);
    // Ctrl+S on the empty form: a newer message replaces the notice.
    key('s', { ctrlKey: true });
    await tick(0);
    expect(text('#banner')).toBe('Chưa có thông tin nào để lưu.');
    await tick(SEALED_NOTICE_MS);
    expect(text('#banner')).toBe('Chưa có thông tin nào để lưu.');
  });

  it('shows every field error when finalising an invalid record', async () => {
    const fake = unlocked();
    const errors: FieldError[] = [
      fakeFieldError('dateOfBirth', 'required'),
      fakeFieldError('sex', 'invalidSex'),
      fakeFieldError('personalId', 'required'),
      { field: 'personalId', rule: 'second', message: '[fake] personalId/second' },
    ];
    // Validation while typing finds nothing; only finalise reports problems.
    app = await boot(fake);
    type('#f-birthName', 'Nguyễn Văn An');
    fake.scriptValidation(() => errors);
    $('#btn-finalise').click();
    await tick(0);
    expect(calls(fake, 'finalise')).toEqual([['draft-0001']]);
    expect(text('[data-error-for="birthName"]')).toBe('');
    expect($('#f-birthName').hasAttribute('aria-invalid')).toBe(false);
    expect(text('[data-error-for="dateOfBirth"]')).toBe('[fake] dateOfBirth/required');
    expect(text('[data-error-for="sex"]')).toBe('[fake] sex/invalidSex');
    expect(text('[data-error-for="personalId"]')).toBe('[fake] personalId/required [fake] personalId/second');
    expect($('#f-dateOfBirth').getAttribute('aria-invalid')).toBe('true');
    expect($('#f-sex').getAttribute('aria-invalid')).toBe('true');
    expect($('#f-personalId').getAttribute('aria-invalid')).toBe('true');
    expect(text('#banner')).toBe(fakeErrorMessage('invalidInput'));
    expect($input('#f-birthName').value).toBe('Nguyễn Văn An');
    // Focus goes to the first field with a problem.
    expect(document.activeElement).toBe($('#f-dateOfBirth'));
    expect(fake.records[0]?.state).toBe('draft');
  });

  it('finalise rejected with a message only keeps the form and shows it', async () => {
    const fake = unlocked();
    app = await boot(fake);
    await fillValid();
    vi.spyOn(fake, 'finalise').mockRejectedValue({ code: 'internal', message: 'Lõi báo lỗi X.' });
    key('Enter', { ctrlKey: true });
    await tick(0);
    expect(text('#banner')).toBe('Lõi báo lỗi X.');
    expect($input('#f-birthName').value).toBe('Hoàng Thị Lan');
    expect(text('[data-error-for="birthName"]')).toBe('');
  });

  it('opens a draft when its row is clicked, and New starts an empty record', async () => {
    const fake = unlocked([rec('e-9', 'draft', { input: { birthName: 'Đinh Bộ Lĩnh', dateOfBirth: '1990-01-31', sex: '', personalId: '' } })]);
    fake.scriptValidation((input) => (input.sex === '' ? [fakeFieldError('sex', 'invalidSex')] : []));
    app = await boot(fake);
    row('e-9').click();
    await tick(0);
    expect(calls(fake, 'get_draft')).toEqual([['e-9']]);
    expect($input('#f-birthName').value).toBe('Đinh Bộ Lĩnh');
    expect($input('#f-dateOfBirth').value).toBe('1990-01-31');
    expect(text('[data-error-for="sex"]')).toBe('[fake] sex/invalidSex');
    expect(row('e-9').getAttribute('aria-current')).toBe('true');

    type('#f-sex', 'male');
    key('s', { ctrlKey: true });
    await tick(0);
    expect(lastCall(fake, 'save_draft')?.[0]).toBe('e-9');
    expect(text('[data-error-for="sex"]')).toBe('');

    $('#btn-new').click();
    await tick(0);
    expect($input('#f-birthName').value).toBe('');
    expect(row('e-9').hasAttribute('aria-current')).toBe(false);
  });

  it('polls the list every second and shows the receipt once accepted', async () => {
    const fake = unlocked([rec('e-1', 'sealed')]);
    app = await boot(fake);
    expect(row('e-1').dataset['state']).toBe('sealed');
    fake.advanceUploads();
    await tick(1000);
    expect(row('e-1').dataset['state']).toBe('uploading');
    expect(row('e-1').querySelector('.state-label')?.textContent).toBe('Đang gửi');
    fake.advanceUploads();
    await tick(1000);
    expect(row('e-1').dataset['state']).toBe('accepted');
    expect(row('e-1').querySelector('.receipt-id')?.textContent).toBe('BN-000001');
    fake.rejectRecord('e-1', 'Trùng hồ sơ.');
    await tick(1000);
    expect(row('e-1').querySelector('.state-label')?.textContent).toBe('Bị trung tâm từ chối');
    expect(row('e-1').querySelector('.reason')?.textContent).toContain('Trùng hồ sơ.');
  });

  it('the language toggle switches labels to English and tells the backend', async () => {
    const fake = unlocked([rec('e-1', 'accepted', { receiptId: 'BN-7' })]);
    // The backend answers in its current language.
    fake.scriptValidation((_input, lang) => [{ field: 'personalId', rule: 'r', message: `[fake ${lang}] personalId/r` }]);
    app = await boot(fake);
    expect(document.documentElement.lang).toBe('vi');
    type('#f-personalId', '1');
    await tick(VALIDATE_DELAY_MS);
    expect(text('[data-error-for="personalId"]')).toBe('[fake vi] personalId/r');

    $('#lang-toggle').click();
    await tick(0);
    expect(document.documentElement.lang).toBe('en');
    expect(localStorage.getItem('ghidanh.lang')).toBe('en');
    expect(calls(fake, 'set_language')).toEqual([['en']]);
    expect(text('label[for="f-birthName"]')).toBe('Full birth name');
    expect(text('#btn-save')).toBe('Save draft');
    expect(text('#btn-finalise')).toBe('Finalise and seal');
    expect(text('#lock-button')).toBe('Lock');
    expect(text('#lang-toggle')).toBe('VI');
    expect(row('e-1').querySelector('.state-label')?.textContent).toBe('Delivered, accepted by the registry');
    // Messages are fetched again, now in English, from the backend.
    expect(text('[data-error-for="personalId"]')).toBe('[fake en] personalId/r');

    $('#lang-toggle').click();
    await tick(0);
    expect(document.documentElement.lang).toBe('vi');
    expect(text('#btn-save')).toBe('Lưu nháp');
    expect(text('[data-error-for="personalId"]')).toBe('[fake vi] personalId/r');
  });

  it('uses the language saved on this machine and tells the backend at start', async () => {
    localStorage.setItem('ghidanh.lang', 'en');
    const fake = unlocked();
    app = await boot(fake);
    expect(calls(fake, 'set_language')).toEqual([['en']]);
    expect(text('#btn-new')).toBe('New record');
    expect(document.documentElement.lang).toBe('en');
  });

  it('the lock button saves pending edits and shows the unlock screen', async () => {
    const fake = unlocked();
    app = await boot(fake);
    type('#f-birthName', 'Mai An Tiêm');
    $('#lock-button').click();
    await tick(0);
    expect(calls(fake, 'save_draft')).toHaveLength(1);
    expect($('[data-screen="unlock"]')).toBeTruthy();
    expect(document.activeElement).toBe($('#unlock-pass'));
    // No polling once locked.
    const before = calls(fake, 'list_enrollments').length;
    await tick(3000);
    expect(calls(fake, 'list_enrollments').length).toBe(before);
  });
});
