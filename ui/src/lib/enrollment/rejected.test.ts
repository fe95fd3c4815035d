import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { App } from '../app';
import { FakeBackend, type FakeRecord } from '../backend/fake';
import { $, $input, boot, key, text, tick } from '../testing';

// What an operator does with a record the registry refused: read why, discard it (after a
// confirmation), or correct it as a new draft. The reason texts come from the core already
// localized; the fake carries whatever the test writes.

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
const LAN = { birthName: 'Hoàng Thị Lan', dateOfBirth: '1987-09-02', sex: 'female' as const, personalId: '03618700451' };

function rec(id: string, state: FakeRecord['state'], extra: Partial<FakeRecord> = {}): FakeRecord {
  return { id, input: LAN, state, receiptId: null, reason: null, updatedAt: T, ...extra };
}

/** A refusal of the record's content (the core says it can be corrected). */
const contentRefusal: Partial<FakeRecord> = {
  reason: 'Trung tâm từ chối: hồ sơ chưa đúng — Số định danh cá nhân: phải gồm đúng 12 chữ số.',
  reasonAdvice: 'Bấm “Sửa và gửi lại” để sửa hồ sơ rồi gửi lại, hoặc huỷ hồ sơ.',
  reasonCode: 'invalid_record:personalId/notTwelveDigits',
  canCorrect: true,
};
/** A refusal about the bundle: only discarding (or support) helps. */
const bundleRefusal: Partial<FakeRecord> = {
  input: { ...LAN, birthName: 'Phạm Thị Ngọc', personalId: '036187004513' },
  reason: 'Trung tâm từ chối: dữ liệu mã hóa đã bị thay đổi.',
  reasonAdvice: 'Sửa hồ sơ không giải quyết được việc này: hãy gọi bộ phận hỗ trợ kỹ thuật, hoặc huỷ hồ sơ.',
  reasonCode: 'ciphertext_mismatch',
  canCorrect: false,
};

function unlocked(records: FakeRecord[]): FakeBackend {
  return new FakeBackend({ state: 'unlocked', operatorName: 'Phạm Minh Đức', enrollments: records });
}

function row(id: string): HTMLElement {
  return $(`#enrollment-list [data-enrollment-id="${id}"]`);
}

function inRow(id: string, selector: string): HTMLElement {
  const el = row(id).querySelector<HTMLElement>(selector);
  if (!el) throw new Error(`${id}: no ${selector}`);
  return el;
}

function visible(el: HTMLElement): boolean {
  return !el.hidden && !el.closest('[hidden]');
}

function calls(fake: FakeBackend, cmd: string): unknown[][] {
  return fake.calls.filter((c) => c.cmd === cmd).map((c) => c.args);
}

describe('a refused record', () => {
  it('shows why in words, what to do, its code, and only the decisions that apply', async () => {
    app = await boot(
      unlocked([rec('r-1', 'rejected', contentRefusal), rec('r-2', 'rejected', bundleRefusal), rec('a-1', 'accepted'), rec('d-1', 'draft')]),
    );
    expect(text('#enrollment-list [data-enrollment-id="r-1"] .reason')).toBe(
      'Lý do: Trung tâm từ chối: hồ sơ chưa đúng — Số định danh cá nhân: phải gồm đúng 12 chữ số.',
    );
    expect(inRow('r-1', '.reason-advice').textContent).toContain('Sửa và gửi lại');
    expect(inRow('r-1', '.reason-code').textContent).toBe('Mã lý do: invalid_record:personalId/notTwelveDigits');
    expect(inRow('r-1', '.btn-redo').textContent).toBe('Sửa và gửi lại');
    expect(inRow('r-1', '.btn-discard').textContent).toBe('Huỷ hồ sơ');
    expect(visible(inRow('r-1', '.btn-redo')) && visible(inRow('r-1', '.btn-discard'))).toBe(true);
    // Not the record's fault: discard only.
    expect(visible(inRow('r-2', '.btn-redo'))).toBe(false);
    expect(visible(inRow('r-2', '.btn-discard'))).toBe(true);
    expect(inRow('r-2', '.reason-advice').textContent).toContain('hỗ trợ kỹ thuật');
    // Nothing to decide for the others.
    for (const id of ['a-1', 'd-1']) expect(visible(inRow(id, '.row-actions'))).toBe(false);
    expect(visible($('#confirm-dialog'))).toBe(false);
  });

  it('discard asks first (vi): going back keeps the record, confirming removes its data', async () => {
    const fake = unlocked([rec('r-1', 'rejected', contentRefusal)]);
    app = await boot(fake);
    const button = inRow('r-1', '.btn-discard');
    button.click();
    await tick(0);
    expect(visible($('#confirm-dialog'))).toBe(true);
    expect($('#confirm-dialog').getAttribute('role')).toBe('alertdialog');
    expect(text('#confirm-title')).toBe('Huỷ hồ sơ bị từ chối?');
    expect(text('#confirm-text')).toContain('Hồ sơ của Hoàng Thị Lan sẽ bị xoá khỏi máy');
    expect(text('#confirm-text')).toContain('Biên nhận từ chối của trung tâm và nhật ký vẫn được giữ');
    expect(text('#confirm-yes')).toBe('Huỷ hồ sơ');
    expect(text('#confirm-no')).toBe('Quay lại');
    // The safe answer has the focus.
    expect(document.activeElement).toBe($('#confirm-no'));

    $('#confirm-no').click();
    await tick(0);
    expect(visible($('#confirm-dialog'))).toBe(false);
    expect(calls(fake, 'discard_rejected')).toEqual([]);
    expect(document.activeElement).toBe(button);
    // Escape is going back too.
    button.click();
    await tick(0);
    key('Escape');
    await tick(0);
    expect(visible($('#confirm-dialog'))).toBe(false);
    expect(calls(fake, 'discard_rejected')).toEqual([]);

    button.click();
    await tick(0);
    $('#confirm-yes').click();
    await tick(0);
    expect(calls(fake, 'discard_rejected')).toEqual([['r-1']]);
    expect(visible($('#confirm-dialog'))).toBe(false);
    expect(text('#banner')).toBe('Đã huỷ hồ sơ của Hoàng Thị Lan. Biên nhận từ chối của trung tâm vẫn được giữ.');
    expect(row('r-1').dataset['state']).toBe('purged');
    expect(row('r-1').dataset['discarded']).toBe('true');
    expect(inRow('r-1', '.state-label').textContent).toBe('Đã huỷ sau khi bị từ chối');
    expect(inRow('r-1', '.name').textContent).toBe('(đã huỷ; dữ liệu cá nhân đã xoá khỏi máy)');
    // The reason and its code stay; there is nothing more to decide.
    expect(inRow('r-1', '.reason').textContent).toContain('phải gồm đúng 12 chữ số');
    expect(inRow('r-1', '.reason-code').textContent).toContain('invalid_record:personalId/notTwelveDigits');
    expect(visible(inRow('r-1', '.row-actions'))).toBe(false);
    expect(text('#sync-counts')).toContain('Đã huỷ: 1');
  });

  it('the confirmation and the buttons speak English after the toggle', async () => {
    const fake = unlocked([rec('r-2', 'rejected', bundleRefusal)]);
    app = await boot(fake);
    $('#lang-toggle').click();
    await tick(0);
    expect(inRow('r-2', '.btn-discard').textContent).toBe('Discard');
    expect(inRow('r-2', '.btn-redo').textContent).toBe('Correct and resend');
    expect(inRow('r-2', '.reason-code').textContent).toBe('Reason code: ciphertext_mismatch');
    inRow('r-2', '.btn-discard').click();
    await tick(0);
    expect(text('#confirm-title')).toBe('Discard the refused record?');
    expect(text('#confirm-text')).toContain('The record of Phạm Thị Ngọc will be removed from this device');
    expect(text('#confirm-text')).toContain('refusal receipt and the audit log are kept');
    expect(text('#confirm-yes')).toBe('Discard the record');
    expect(text('#confirm-no')).toBe('Go back');
    // The open dialog follows a language change too.
    $('#lang-toggle').click();
    await tick(0);
    expect(text('#confirm-title')).toBe('Huỷ hồ sơ bị từ chối?');
    $('#lang-toggle').click();
    await tick(0);
    $('#confirm-yes').click();
    await tick(0);
    expect(calls(fake, 'discard_rejected')).toEqual([['r-2']]);
    expect(text('#banner')).toBe('Discarded the record of Phạm Thị Ngọc. The registry’s refusal receipt is kept.');
    expect(inRow('r-2', '.state-label').textContent).toBe('Discarded after the refusal');
  });

  it('correct and resend asks first, then opens a new draft with the record and the reason', async () => {
    const fake = unlocked([rec('r-1', 'rejected', contentRefusal)]);
    app = await boot(fake);
    inRow('r-1', '.btn-redo').click();
    await tick(0);
    expect(text('#confirm-title')).toBe('Sửa và gửi lại?');
    expect(text('#confirm-text')).toContain('Một bản nháp mới sẽ được tạo với thông tin của Hoàng Thị Lan');
    expect(text('#confirm-text')).toContain('Hồ sơ bị từ chối sẽ được huỷ khỏi máy');
    expect(text('#confirm-yes')).toBe('Tạo bản nháp để sửa');
    $('#confirm-yes').click();
    await tick(0);
    expect(calls(fake, 'redo_rejected')).toEqual([['r-1']]);
    expect(calls(fake, 'discard_rejected')).toEqual([]);
    const [draftId] = calls(fake, 'get_draft').map((args) => args[0]);
    expect(draftId).toBeDefined();
    expect(draftId).not.toBe('r-1');
    // The new draft is open in the form, prefilled, with the registry's reason on the banner.
    expect($input('#f-birthName').value).toBe('Hoàng Thị Lan');
    expect($input('#f-personalId').value).toBe('03618700451');
    expect(text('#banner')).toBe(
      'Bản nháp mới từ hồ sơ của Hoàng Thị Lan. Trung tâm từ chối: hồ sơ chưa đúng — Số định danh cá nhân: phải gồm đúng 12 chữ số. Hãy sửa rồi bấm “Hoàn tất và niêm phong”.',
    );
    expect(row(String(draftId)).dataset['state']).toBe('draft');
    expect(row(String(draftId)).getAttribute('aria-current')).toBe('true');
    expect(row('r-1').dataset['discarded']).toBe('true');
  });

  it('a refusal of the core shows its message (already in the operator language) on the banner', async () => {
    const fake = unlocked([rec('r-1', 'rejected', contentRefusal)]);
    fake.scriptError('discard_rejected', {
      code: 'notRejected',
      message: 'Chỉ hồ sơ bị trung tâm từ chối mới huỷ hoặc sửa để gửi lại được.',
    });
    app = await boot(fake);
    inRow('r-1', '.btn-discard').click();
    await tick(0);
    $('#confirm-yes').click();
    await tick(0);
    expect(text('#banner')).toBe('Chỉ hồ sơ bị trung tâm từ chối mới huỷ hoặc sửa để gửi lại được.');
    expect($('#banner').dataset['kind']).toBe('error');
    expect(visible($('#confirm-dialog'))).toBe(false);
    expect(row('r-1').dataset['state']).toBe('rejected');

    fake.scriptError('redo_rejected', { code: 'notCorrectable', message: 'Sửa hồ sơ không giải quyết được.' });
    inRow('r-1', '.btn-redo').click();
    await tick(0);
    $('#confirm-yes').click();
    await tick(0);
    expect(text('#banner')).toBe('Sửa hồ sơ không giải quyết được.');
    expect(calls(fake, 'get_draft')).toEqual([]);
  });

  it('Enter on a row button asks, and does not open anything else', async () => {
    const fake = unlocked([rec('r-1', 'rejected', contentRefusal)]);
    app = await boot(fake);
    const button = inRow('r-1', '.btn-discard');
    button.focus();
    const ev = new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true });
    button.dispatchEvent(ev);
    // The list leaves a button's own keys alone (the browser turns Enter into a click).
    expect(ev.defaultPrevented).toBe(false);
    expect(calls(fake, 'get_draft')).toEqual([]);
  });
});
