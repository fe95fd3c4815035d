import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { App } from '../app';
import type { AppError } from '../backend/types';
import { FakeBackend, fakeErrorMessage, fakeFieldError } from '../backend/fake';
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

describe('setup screen', () => {
  it('shows the setup form in Vietnamese first', async () => {
    app = await boot(new FakeBackend({ state: 'needsSetup' }));
    expect($('[data-screen="setup"]')).toBeTruthy();
    expect(text('h1')).toBe('Tạo tài khoản người thu nhận');
    expect(text('label[for="setup-pass2"]')).toBe('Nhập lại cụm mật khẩu');
    expect(text('#setup-submit')).toBe('Tạo tài khoản');
    expect(document.activeElement).toBe($('#setup-name'));
  });

  it("sends what was typed and shows the backend's field error next to that field", async () => {
    const fake = new FakeBackend({ state: 'needsSetup' });
    fake.scriptOperatorValidation(() => [fakeFieldError('passphraseConfirm', 'mismatch')]);
    app = await boot(fake);
    type('#setup-name', 'Trần Văn Bình');
    type('#setup-pass', 'núi cao sông dài');
    type('#setup-pass2', 'núi cao sông ngắn');
    const sent = vi.spyOn(fake, 'createOperator');
    $('#setup-submit').click();
    await tick();

    expect(sent).toHaveBeenCalledWith('Trần Văn Bình', 'núi cao sông dài', 'núi cao sông ngắn');
    expect(text('[data-error-for="passphraseConfirm"]')).toBe('[fake] passphraseConfirm/mismatch');
    expect($('#setup-pass2').getAttribute('aria-invalid')).toBe('true');
    expect($('#setup-pass').hasAttribute('aria-invalid')).toBe(false);
    expect($('#setup-name').hasAttribute('aria-invalid')).toBe(false);
    expect(text('[data-error-for="passphrase"]')).toBe('');
    expect(text('#banner')).toBe(fakeErrorMessage('invalidInput'));
    expect(document.activeElement).toBe($('#setup-pass2'));
    expect($('[data-screen="setup"]')).toBeTruthy();

    // Fixed: the backend accepts, the errors go and the main screen opens.
    fake.scriptOperatorValidation(null);
    type('#setup-pass2', 'núi cao sông dài');
    $('#setup-submit').click();
    await tick();
    expect($('[data-screen="main"]')).toBeTruthy();
    expect(text('#banner')).toBe('');
  });

  it('shows whatever message the backend sends, untranslated', async () => {
    const fake = new FakeBackend({ state: 'needsSetup' });
    const err: AppError = {
      code: 'invalidInput',
      message: 'Thông điệp chung từ lõi.',
      fieldErrors: [
        { field: 'name', rule: 'required', message: 'Tên: lỗi A từ lõi.' },
        { field: 'passphrase', rule: 'tooShort', message: 'Mật khẩu: lỗi B từ lõi.' },
      ],
    };
    vi.spyOn(fake, 'createOperator').mockRejectedValue(err);
    app = await boot(fake);
    $('#setup-submit').click();
    await tick();
    expect(text('[data-error-for="name"]')).toBe('Tên: lỗi A từ lõi.');
    expect(text('[data-error-for="passphrase"]')).toBe('Mật khẩu: lỗi B từ lõi.');
    expect(text('#banner')).toBe('Thông điệp chung từ lõi.');
    expect(document.activeElement).toBe($('#setup-name'));
  });

  it('Enter in the last field creates the operator and opens the main screen', async () => {
    const fake = new FakeBackend({ state: 'needsSetup' });
    app = await boot(fake);
    type('#setup-name', 'Trần Văn Bình');
    type('#setup-pass', 'núi cao sông dài');
    type('#setup-pass2', 'núi cao sông dài');
    // Enter in a field submits the form (implicit submission).
    ($input('#setup-pass2').form as HTMLFormElement).requestSubmit();
    await tick();
    expect($('[data-screen="main"]')).toBeTruthy();
    expect(text('#operator-name')).toBe('Trần Văn Bình');
    expect(text('#device-id')).toBe('GD-DEV-0001');
    expect(text('#banner')).toBe('');
    expect(fake.calls.find((c) => c.cmd === 'create_operator')?.args).toEqual(['Trần Văn Bình', '***', '***']);
  });
});

describe('unlock screen', () => {
  it('keeps focus and the typed text on a wrong passphrase, then unlocks', async () => {
    const fake = new FakeBackend({ state: 'locked', operatorName: 'Lê Thị Hoa', passphrase: 'đúng rồi đấy' });
    app = await boot(fake);
    expect($('[data-screen="unlock"]')).toBeTruthy();
    expect(text('.who')).toContain('Lê Thị Hoa');
    expect(document.activeElement).toBe($('#unlock-pass'));

    type('#unlock-pass', 'sai rồi');
    $('#unlock-submit').click();
    await tick();
    expect(text('#banner')).toBe(fakeErrorMessage('wrongPassphrase'));
    expect(document.activeElement).toBe($('#unlock-pass'));
    expect($input('#unlock-pass').value).toBe('sai rồi');
    expect($('#unlock-pass').getAttribute('aria-invalid')).toBe('true');

    type('#unlock-pass', 'đúng rồi đấy');
    ($input('#unlock-pass').form as HTMLFormElement).requestSubmit();
    await tick();
    expect($('[data-screen="main"]')).toBeTruthy();
    expect(text('#operator-name')).toBe('Lê Thị Hoa');
    expect(text('#banner')).toBe('');
  });
});
