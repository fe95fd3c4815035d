import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { STATUS_POLL_MS, type App } from '../app';
import { FakeBackend, fakeErrorMessage, fakeFieldError } from '../backend/fake';
import { AUTOSAVE_DELAY_MS } from '../enrollment/form';
import { $, $input, boot, text, tick, type } from '../testing';

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

/** A button by its accessible name (aria-label, else its text), as the e2e tests find them. */
function button(name: string): HTMLButtonElement {
  const all = [...document.querySelectorAll<HTMLButtonElement>('button')].filter((b) => !b.closest('[hidden]'));
  const found = all.find((b) => (b.getAttribute('aria-label') ?? b.textContent?.trim()) === name);
  if (!found) throw new Error(`no button named ${name}: ${all.map((b) => b.getAttribute('aria-label') ?? b.textContent).join(' | ')}`);
  return found;
}

/** The control a visible label names. */
function labelled(label: string): HTMLInputElement | HTMLSelectElement {
  const l = [...document.querySelectorAll('label')].find((x) => x.textContent?.trim() === label && !x.closest('[hidden]'));
  const id = l?.getAttribute('for');
  if (!id) throw new Error(`no label ${label}`);
  return $input(`#${id}`);
}

function fill(label: string, value: string): void {
  const el = labelled(label);
  type(`#${el.id}`, value);
}

function submitFrom(label: string): void {
  (labelled(label).form as HTMLFormElement).requestSubmit();
}

const ANNA = { id: 'op-0002', name: 'Đỗ Thị Anh', role: 'operator' as const, passphrase: 'hoa sen trắng' };

function supervisorSession(): FakeBackend {
  return new FakeBackend({
    state: 'unlocked',
    operatorName: 'Lê Văn Giám',
    role: 'supervisor',
    passphrase: 'trăng rằm tháng tám',
    otherOperators: [ANNA],
  });
}

describe('lock and unlock', () => {
  it('"Khoá máy" locks at once; the unlock screen does not call it an idle lock', async () => {
    const fake = supervisorSession();
    app = await boot(fake);
    button('Khoá máy').click();
    await tick();
    expect($('[data-screen="unlock"]')).toBeTruthy();
    expect(fake.calls.some((c) => c.cmd === 'lock')).toBe(true);
    expect(text('#banner')).toBe('');
    expect(document.activeElement).toBe($('#unlock-pass'));
  });

  it('shows the rate-limit wait, counts it down, and does not try again before it ends', async () => {
    const fake = new FakeBackend({ state: 'locked', passphrase: 'đúng rồi đấy' });
    fake.scriptError('unlock', { code: 'tooManyAttempts', message: 'Thử lại sau 3 giây (từ lõi).', retryAfterSecs: 3 });
    app = await boot(fake);
    fill('Cụm mật khẩu', 'sai lần thứ tư');
    submitFrom('Cụm mật khẩu');
    await tick();
    expect(text('#banner')).toBe('Thử lại sau 3 giây (từ lõi).');
    expect(text('#unlock-wait')).toBe('Đã nhập sai nhiều lần. Vui lòng chờ 3 giây rồi thử lại.');
    expect($('#unlock-submit').getAttribute('aria-disabled')).toBe('true');

    // Enter during the wait sends nothing.
    fill('Cụm mật khẩu', 'đúng rồi đấy');
    submitFrom('Cụm mật khẩu');
    await tick(1000);
    expect(fake.calls.filter((c) => c.cmd === 'unlock')).toHaveLength(1);
    expect(text('#unlock-wait')).toBe('Đã nhập sai nhiều lần. Vui lòng chờ 2 giây rồi thử lại.');

    await tick(2000);
    expect(text('#unlock-wait')).toBe('Đã hết thời gian chờ; có thể thử lại.');
    expect($('#unlock-submit').hasAttribute('aria-disabled')).toBe(false);
    submitFrom('Cụm mật khẩu');
    await tick();
    expect($('[data-screen="main"]')).toBeTruthy();
  });

  it('after an idle lock, unlocking reopens the draft that was being typed', async () => {
    const fake = supervisorSession();
    app = await boot(fake);
    type('#f-birthName', 'Vũ Thị Mai');
    type('#f-personalId', '001190000001');
    await tick(AUTOSAVE_DELAY_MS);
    expect(fake.records[0]?.input.birthName).toBe('Vũ Thị Mai');

    fake.idleLock();
    await tick(STATUS_POLL_MS);
    expect($('[data-screen="unlock"]')).toBeTruthy();
    expect(text('#banner')).toContain('Máy đã tự khoá');

    fill('Cụm mật khẩu', 'trăng rằm tháng tám');
    submitFrom('Cụm mật khẩu');
    await tick();
    expect($('[data-screen="main"]')).toBeTruthy();
    expect($input('#f-birthName').value).toBe('Vũ Thị Mai');
    expect($input('#f-personalId').value).toBe('001190000001');
    expect(text('#form-context')).toContain(fake.records[0]?.id ?? 'none');
  });

  it('another operator signing in after the lock starts with an empty form', async () => {
    const fake = supervisorSession();
    app = await boot(fake);
    type('#f-birthName', 'Vũ Thị Mai');
    await tick(AUTOSAVE_DELAY_MS);
    fake.idleLock();
    await tick(STATUS_POLL_MS);
    fill('Cụm mật khẩu', ANNA.passphrase);
    submitFrom('Cụm mật khẩu');
    await tick();
    expect(text('#operator-name')).toBe(ANNA.name);
    expect(text('#operator-role')).toBe('Người thu nhận');
    expect($input('#f-birthName').value).toBe('');
    expect(fake.calls.some((c) => c.cmd === 'get_draft')).toBe(false);
  });
});

describe('change passphrase', () => {
  it('refuses a wrong current passphrase on that field, shows field errors, then changes it', async () => {
    const fake = new FakeBackend({ state: 'unlocked', operatorName: ANNA.name, role: 'operator', passphrase: ANNA.passphrase });
    app = await boot(fake);
    button('Đổi cụm mật khẩu').click();
    await tick();
    expect($('[data-screen="passphrase"]')).toBeTruthy();
    expect(text('h1')).toBe('Đổi cụm mật khẩu');
    expect(document.activeElement).toBe(labelled('Cụm mật khẩu hiện tại'));

    fill('Cụm mật khẩu hiện tại', 'không phải');
    fill('Cụm mật khẩu mới', 'mây trôi bốn phương');
    fill('Nhập lại cụm mật khẩu mới', 'mây trôi bốn phương');
    submitFrom('Nhập lại cụm mật khẩu mới');
    await tick();
    expect(text('#banner')).toBe(fakeErrorMessage('wrongPassphrase'));
    expect(labelled('Cụm mật khẩu hiện tại').getAttribute('aria-invalid')).toBe('true');
    expect(document.activeElement).toBe(labelled('Cụm mật khẩu hiện tại'));
    expect(fake.signedIn?.passphrase).toBe(ANNA.passphrase);

    fake.scriptOperatorValidation(() => [fakeFieldError('passphraseConfirm', 'mismatch')]);
    fill('Cụm mật khẩu hiện tại', ANNA.passphrase);
    submitFrom('Cụm mật khẩu hiện tại');
    await tick();
    expect(text('[data-error-for="passphraseConfirm"]')).toBe('[fake] passphraseConfirm/mismatch');
    expect(document.activeElement).toBe(labelled('Nhập lại cụm mật khẩu mới'));

    fake.scriptOperatorValidation(null);
    submitFrom('Cụm mật khẩu mới');
    await tick();
    expect(text('#banner')).toBe('Đã đổi cụm mật khẩu. Lần mở khoá sau hãy dùng cụm mật khẩu mới.');
    expect(fake.signedIn?.passphrase).toBe('mây trôi bốn phương');
    expect(labelled('Cụm mật khẩu hiện tại').value).toBe('');
    expect(text('[data-error-for="passphraseConfirm"]')).toBe('');
    // Operators do not manage accounts: no such button for them.
    expect(() => button('Người thu nhận')).toThrow();

    button('Hồ sơ').click();
    await tick();
    expect($('[data-screen="main"]')).toBeTruthy();
  });
});

describe('operators (supervisor)', () => {
  it('lists the accounts, adds one with Enter and resets another one\'s passphrase', async () => {
    const fake = supervisorSession();
    app = await boot(fake);
    expect(text('#operator-role')).toBe('Giám sát viên');
    button('Người thu nhận').click();
    await tick();
    expect($('[data-screen="operators"]')).toBeTruthy();
    const rows = () => [...document.querySelectorAll('#operator-list .operator-row')].map((r) => r.textContent?.trim());
    expect(rows()).toEqual(['Lê Văn Giám (bạn)Giám sát viên', 'Đỗ Thị AnhNgười thu nhậnĐặt lại cụm mật khẩu']);
    // No reset of one's own passphrase here (that needs the current one).
    expect(document.querySelectorAll('#operator-list [data-reset-for]')).toHaveLength(1);

    fake.scriptError('add_operator', { code: 'passphraseInUse', message: 'Cụm mật khẩu đã có người dùng (từ lõi).' });
    fill('Họ và tên', 'Ngô Bảo Châu');
    type(`#${labelled('Vai trò').id}`, 'supervisor');
    fill('Cụm mật khẩu', 'hoa sen trắng');
    fill('Nhập lại cụm mật khẩu', 'hoa sen trắng');
    submitFrom('Nhập lại cụm mật khẩu');
    await tick();
    expect(text('#banner')).toBe('Cụm mật khẩu đã có người dùng (từ lõi).');
    expect(document.activeElement).toBe(labelled('Cụm mật khẩu'));

    fill('Cụm mật khẩu', 'sông dài biển rộng');
    fill('Nhập lại cụm mật khẩu', 'sông dài biển rộng');
    submitFrom('Nhập lại cụm mật khẩu');
    await tick();
    expect(text('#banner')).toBe('Đã thêm Ngô Bảo Châu.');
    expect(fake.calls.filter((c) => c.cmd === 'add_operator')[1]?.args).toEqual(['Ngô Bảo Châu', 'supervisor', '***', '***']);
    expect(rows()).toHaveLength(3);
    expect(labelled('Họ và tên').value).toBe('');

    button('Đặt lại cụm mật khẩu cho Đỗ Thị Anh').click();
    await tick();
    expect(text('#reset-title')).toBe('Đặt lại cụm mật khẩu cho Đỗ Thị Anh');
    expect(document.activeElement).toBe(labelled('Cụm mật khẩu mới'));
    fill('Cụm mật khẩu mới', 'gió mùa đông bắc');
    fill('Nhập lại cụm mật khẩu mới', 'gió mùa đông bắc');
    submitFrom('Nhập lại cụm mật khẩu mới');
    await tick();
    expect(text('#banner')).toBe('Đã đặt lại cụm mật khẩu cho Đỗ Thị Anh. Dữ liệu trên máy không bị mất.');
    expect(fake.operators.find((o) => o.id === ANNA.id)?.passphrase).toBe('gió mùa đông bắc');
    expect(fake.calls.filter((c) => c.cmd === 'reset_passphrase')).toEqual([{ cmd: 'reset_passphrase', args: [ANNA.id, '***', '***'] }]);
  });
});

describe('retention period (supervisor)', () => {
  it('shows the period, sends the field as typed, shows the core\'s refusal under it, then sets it', async () => {
    const fake = supervisorSession();
    fake.retentionDays = 14;
    app = await boot(fake);
    button('Người thu nhận').click();
    await tick();
    expect(text('#retention-title')).toBe('Thời hạn lưu giữ');
    expect(labelled('Thời hạn lưu giữ (ngày)').value).toBe('14');
    expect(labelled('Thời hạn lưu giữ (ngày)').getAttribute('inputmode')).toBe('numeric');

    // The rule lives in the core; the fake only replays its answer, in the session's language.
    const refusal = (rule: string, lang: string) => ({
      code: 'invalidInput' as const,
      message: fakeErrorMessage('invalidInput'),
      fieldErrors: [{ field: 'retentionDays', rule, message: `[fake ${lang}] retentionDays/${rule}` }],
    });
    fake.scriptError('set_retention_days', refusal('wholeDays', 'vi'));
    fill('Thời hạn lưu giữ (ngày)', '1,5');
    submitFrom('Thời hạn lưu giữ (ngày)');
    await tick();
    expect(fake.calls.filter((c) => c.cmd === 'set_retention_days').map((c) => c.args)).toEqual([['1,5']]);
    expect(text('[data-error-for="retentionDays"]')).toBe('[fake vi] retentionDays/wholeDays');
    expect(labelled('Thời hạn lưu giữ (ngày)').getAttribute('aria-invalid')).toBe('true');
    expect(document.activeElement).toBe(labelled('Thời hạn lưu giữ (ngày)'));
    expect(fake.retentionDays).toBe(14);

    $('#lang-toggle').click();
    await tick();
    expect(text('#retention-title')).toBe('Retention period');
    fake.scriptError('set_retention_days', refusal('range', 'en'));
    fill('Retention period (days)', '120');
    submitFrom('Retention period (days)');
    await tick();
    expect(text('[data-error-for="retentionDays"]')).toBe('[fake en] retentionDays/range');

    fill('Retention period (days)', '30');
    submitFrom('Retention period (days)');
    await tick();
    expect(fake.retentionDays).toBe(30);
    expect(text('#banner')).toBe('Retention period set to 30 days. It applies from the next unlock.');
    expect(text('[data-error-for="retentionDays"]')).toBe('');
    expect(labelled('Retention period (days)').hasAttribute('aria-invalid')).toBe(false);
  });

  it('the daily data allowance: shown, sent as typed, refused under the field, then set; 0 is no limit', async () => {
    const fake = supervisorSession();
    fake.dailyAllowanceMb = 0;
    app = await boot(fake);
    button('Người thu nhận').click();
    await tick();
    expect(text('#allowance-title')).toBe('Hạn mức dữ liệu');
    expect(labelled('Hạn mức dữ liệu mỗi ngày (MB)').value).toBe('0');
    fake.scriptError('set_daily_allowance_mb', {
      code: 'invalidInput' as const,
      message: fakeErrorMessage('invalidInput'),
      fieldErrors: [{ field: 'dailyAllowanceMb', rule: 'wholeMegabytes', message: '[fake vi] dailyAllowanceMb/wholeMegabytes' }],
    });
    fill('Hạn mức dữ liệu mỗi ngày (MB)', '50MB');
    submitFrom('Hạn mức dữ liệu mỗi ngày (MB)');
    await tick();
    expect(fake.calls.filter((c) => c.cmd === 'set_daily_allowance_mb').map((c) => c.args)).toEqual([['50MB']]);
    expect(text('[data-error-for="dailyAllowanceMb"]')).toBe('[fake vi] dailyAllowanceMb/wholeMegabytes');
    expect(text('[data-error-for="retentionDays"]')).toBe('');
    expect(fake.dailyAllowanceMb).toBe(0);

    fill('Hạn mức dữ liệu mỗi ngày (MB)', '50');
    submitFrom('Hạn mức dữ liệu mỗi ngày (MB)');
    await tick();
    expect(fake.dailyAllowanceMb).toBe(50);
    expect(text('#banner')).toBe('Đã đặt hạn mức dữ liệu là 50 MB mỗi ngày.');
    expect(text('[data-error-for="dailyAllowanceMb"]')).toBe('');

    fill('Hạn mức dữ liệu mỗi ngày (MB)', '');
    submitFrom('Hạn mức dữ liệu mỗi ngày (MB)');
    await tick();
    expect(fake.dailyAllowanceMb).toBe(0);
    expect(text('#banner')).toBe('Không giới hạn dữ liệu mỗi ngày: hồ sơ được gửi mỗi khi kết nối được máy chủ.');
  });

  it('an operator who is no supervisor never reaches it, and the core refuses anyway', async () => {
    const fake = new FakeBackend({ state: 'unlocked', operatorName: ANNA.name, role: 'operator', passphrase: ANNA.passphrase });
    app = await boot(fake);
    expect(() => button('Người thu nhận')).toThrow();
    expect(document.querySelector('#retention-days')).toBeNull();
    expect(document.querySelector('#allowance-mb')).toBeNull();
    await expect(fake.setRetentionDays('30')).rejects.toMatchObject({ code: 'notSupervisor' });
    await expect(fake.setDailyAllowanceMb('30')).rejects.toMatchObject({ code: 'notSupervisor' });
  });
});

describe('faults', () => {
  it('a vault that does not open says what happened and what to do, in Vietnamese and in English', async () => {
    const fake = new FakeBackend({ state: 'locked', passphrase: 'đúng rồi đấy' });
    fake.scriptError(
      'unlock',
      { code: 'vaultCorrupt', message: 'Không mở được dữ liệu trên máy (từ lõi).' },
      { code: 'vaultCorrupt', message: 'The data on this device does not open (from the core).' },
    );
    app = await boot(fake);
    expect($('#vault-corrupt').hidden).toBe(true);
    fill('Cụm mật khẩu', 'đúng rồi đấy');
    submitFrom('Cụm mật khẩu');
    await tick();
    // The core's message on the banner, and the notice with what to do.
    expect(text('#banner')).toBe('Không mở được dữ liệu trên máy (từ lõi).');
    expect($('#vault-corrupt').hidden).toBe(false);
    expect($('#vault-corrupt').getAttribute('role')).toBe('alert');
    expect(text('#vault-corrupt-title')).toBe('Không mở được dữ liệu trên máy này');
    expect(text('#vault-corrupt-body')).toBe(
      'Tệp dữ liệu bị hỏng, hoặc không phải dữ liệu Ghi Danh của máy này (ví dụ được chép từ máy khác). Ứng dụng không xoá gì: dữ liệu đã lưu vẫn được giữ nguyên. Đừng xoá tệp nào và đừng cài lại ứng dụng. Hãy gọi bộ phận hỗ trợ kỹ thuật.',
    );
    // Still the unlock screen: nothing offers to start a new vault.
    expect($('[data-screen="unlock"]')).toBeTruthy();
    expect(document.querySelector('[data-screen="setup"]')).toBeNull();

    $('#lang-toggle').click();
    await tick();
    expect($('#vault-corrupt').hidden).toBe(false);
    expect(text('#vault-corrupt-title')).toBe('The data on this device does not open');
    expect(text('#vault-corrupt-body')).toBe(
      "A data file is damaged, or is not this device's Ghi Danh data (copied from another device, for example). The app deletes nothing: everything saved is kept. Do not delete any file and do not reinstall the app. Call technical support.",
    );
    submitFrom('Passphrase');
    await tick();
    expect(text('#banner')).toBe('The data on this device does not open (from the core).');

    // Support put the files right: the next unlock opens, and the notice goes.
    submitFrom('Passphrase');
    await tick();
    expect($('[data-screen="main"]')).toBeTruthy();
    expect($('#vault-corrupt').hidden).toBe(true);
  });

  it('a full disk keeps what was typed and says so on the banner', async () => {
    const fake = supervisorSession();
    const msg = 'Ổ đĩa đã đầy: chưa lưu được thay đổi này; dữ liệu đã lưu trước đó vẫn còn nguyên.';
    fake.scriptError('save_draft', { code: 'diskFull', message: msg });
    app = await boot(fake);
    type('#f-birthName', 'Trịnh Văn Lực');
    await tick(AUTOSAVE_DELAY_MS);
    expect(text('#banner')).toBe(msg);
    expect($('#banner').getAttribute('role')).toBe('alert');
    expect($input('#f-birthName').value).toBe('Trịnh Văn Lực');
    expect($('#save-status').dataset['state']).toBe('unsaved');
    expect($('[data-screen="main"]')).toBeTruthy();
  });

  it('a wiped device shows the wiped screen and nothing else', async () => {
    const fake = supervisorSession();
    app = await boot(fake);
    fake.wipe();
    await tick(STATUS_POLL_MS);
    expect($('[data-screen="wiped"]')).toBeTruthy();
    expect(text('h1')).toBe('Máy này đã bị thu hồi; dữ liệu đã được xoá');
    expect(document.querySelectorAll('[data-screen="wiped"] input, [data-screen="wiped"] button')).toHaveLength(0);
  });

  it('a wiped error from any command brings the wiped screen', async () => {
    const fake = supervisorSession();
    app = await boot(fake);
    fake.wipe();
    type('#f-birthName', 'Trịnh Văn Lực');
    await tick(AUTOSAVE_DELAY_MS);
    expect($('[data-screen="wiped"]')).toBeTruthy();
    expect(text('#banner')).toBe('');
  });
});
