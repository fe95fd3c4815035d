import { beforeEach, describe, expect, it, vi } from 'vitest';

const invoke = vi.fn();
vi.mock('@tauri-apps/api/core', () => ({ invoke: (...args: unknown[]) => invoke(...args) as unknown }));

const { TauriBackend } = await import('./tauri');
const { toAppError } = await import('./backend');

const input = { birthName: 'Nguyễn Văn An', dateOfBirth: '1990-01-31', sex: 'male' as const, personalId: '001090123456' };

describe('TauriBackend', () => {
  beforeEach(() => {
    invoke.mockReset();
    invoke.mockResolvedValue('ok');
  });

  it('calls each command by its name with camelCase arguments', async () => {
    const b = new TauriBackend();
    await b.appStatus();
    await b.setLanguage('en');
    await b.createOperator('A', 'p1', 'p2');
    await b.unlock('p');
    await b.lock();
    await b.listOperators();
    await b.addOperator('B', 'operator', 'p3', 'p4');
    await b.changePassphrase('old', 'p5', 'p6');
    await b.resetPassphrase('op-1', 'p7', 'p8');
    await b.getRetentionDays();
    await b.setRetentionDays('30');
    await b.validateEnrollment(input);
    await b.saveDraft(null, input);
    await b.saveDraft('d1', input);
    await b.getDraft('d1');
    await b.finalise('d1');
    await b.discardRejected('r1');
    await b.redoRejected('r2');
    await b.listEnrollments();
    await b.syncStatus();
    expect(invoke.mock.calls).toEqual([
      ['app_status', undefined],
      ['set_language', { lang: 'en' }],
      ['create_operator', { name: 'A', passphrase: 'p1', passphraseConfirm: 'p2' }],
      ['unlock', { passphrase: 'p' }],
      ['lock', undefined],
      ['list_operators', undefined],
      ['add_operator', { name: 'B', role: 'operator', passphrase: 'p3', passphraseConfirm: 'p4' }],
      ['change_passphrase', { current: 'old', passphrase: 'p5', passphraseConfirm: 'p6' }],
      ['reset_passphrase', { operatorId: 'op-1', passphrase: 'p7', passphraseConfirm: 'p8' }],
      ['get_retention_days', undefined],
      ['set_retention_days', { days: '30' }],
      ['validate_enrollment', { input }],
      ['save_draft', { id: null, input }],
      ['save_draft', { id: 'd1', input }],
      ['get_draft', { id: 'd1' }],
      ['finalise', { id: 'd1' }],
      ['discard_rejected', { id: 'r1' }],
      ['redo_rejected', { id: 'r2' }],
      ['list_enrollments', undefined],
      ['sync_status', undefined],
    ]);
  });

  it('rejects with the AppError the command sent', async () => {
    const err = {
      code: 'invalidInput',
      message: 'Thông tin chưa hợp lệ.',
      fieldErrors: [{ field: 'personalId', rule: 'notTwelveDigits', message: 'Số định danh cá nhân: phải gồm đúng 12 chữ số.' }],
    };
    invoke.mockRejectedValue(err);
    await expect(new TauriBackend().finalise('d1')).rejects.toEqual(err);
  });
});

describe('toAppError', () => {
  it('keeps a well-formed error', () => {
    expect(toAppError({ code: 'wrongPassphrase', message: 'Sai.' })).toEqual({ code: 'wrongPassphrase', message: 'Sai.' });
  });
  it('turns strings and unknown codes into internal errors', () => {
    expect(toAppError('IPC down')).toEqual({ code: 'internal', message: 'IPC down' });
    expect(toAppError({ code: 'weird', message: 'x' })).toEqual({ code: 'internal', message: 'x' });
    expect(toAppError(undefined)).toEqual({ code: 'internal', message: '' });
  });
  it('keeps the wait of a rate-limited unlock, rounded up, and ignores a malformed one', () => {
    expect(toAppError({ code: 'tooManyAttempts', message: 'Chờ.', retryAfterSecs: 7.2 })).toEqual({
      code: 'tooManyAttempts',
      message: 'Chờ.',
      retryAfterSecs: 8,
    });
    expect(toAppError({ code: 'tooManyAttempts', message: 'Chờ.', retryAfterSecs: '7' }).retryAfterSecs).toBeUndefined();
    expect(toAppError({ code: 'diskFull', message: 'Đầy.' }).code).toBe('diskFull');
    expect(toAppError({ code: 'vaultCorrupt', message: 'Hỏng.' }).code).toBe('vaultCorrupt');
    expect(toAppError({ code: 'notRejected', message: 'Không.' }).code).toBe('notRejected');
    expect(toAppError({ code: 'notCorrectable', message: 'Không.' }).code).toBe('notCorrectable');
  });
  it('drops malformed field errors', () => {
    expect(
      toAppError({ code: 'invalidInput', message: 'm', fieldErrors: [{ field: 'sex', message: 's' }, { nope: 1 }] }).fieldErrors,
    ).toEqual([{ field: 'sex', rule: '', message: 's' }]);
  });
});
