import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { App } from '../app';
import { FakeBackend, type FakeRecord } from '../backend/fake';
import { $, $input, boot, text, tick } from '../testing';

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

const DRAFT: FakeRecord = {
  id: 'd-1',
  input: { birthName: 'Hoàng Thị Lan', dateOfBirth: '1985-07-15', sex: 'female', personalId: '079185000123' },
  state: 'draft',
  receiptId: null,
  reason: null,
  updatedAt: '2025-03-01T08:30:00Z',
};

async function openDraft(fake: FakeBackend): Promise<void> {
  app = await boot(fake);
  $('#enrollment-list [data-enrollment-id="d-1"]').click();
  await tick(0);
}

function fake(): FakeBackend {
  return new FakeBackend({ state: 'unlocked', operatorName: 'Phạm Minh Đức', enrollments: [structuredClone(DRAFT)] });
}

function finger(position: number): HTMLElement {
  return $(`tr[data-position="${position}"]`);
}

function click(el: Element | null): void {
  if (!(el instanceof HTMLElement)) throw new Error('nothing to click');
  el.click();
}

describe('capture panel', () => {
  it('asks for an open record, then lists what the age rule asks and finds the scanner', async () => {
    const f = fake();
    app = await boot(f);
    expect(text('#capture-rule')).toBe('Nhập thông tin người được cấp trước khi chụp ảnh hoặc lấy vân tay.');
    $('#enrollment-list [data-enrollment-id="d-1"]').click();
    await tick(0);
    expect(text('#capture-rule')).toBe(
      'Cần ảnh chân dung và đủ 10 ngón tay (mỗi ngón lấy vân tay hoặc ghi lý do không lấy được).',
    );
    expect(text('#portrait-state')).toBe('Chưa có ảnh chân dung.');
    expect(text('#scanner-state')).toBe('Máy quét: [fake] scanner (số máy F-1)');
    const names = [...document.querySelectorAll('.finger-name')].map((n) => n.textContent);
    expect(names[0]).toBe('Ngón cái phải');
    expect(names[9]).toBe('Ngón út trái');
    expect(finger(3).querySelector('.finger-state')?.textContent).toBe('Chưa lấy');
    expect(text('#fingers-accounted')).toBe('Đã có 0/10 ngón.');
  });

  it('keeps the best of several tries and says so', async () => {
    const f = fake();
    f.fingerScores = [20, 80, 50];
    await openDraft(f);
    click(finger(1).querySelector('.btn-capture'));
    await tick(0);
    expect(text('#finger-feedback')).toBe('Ngón cái phải: chất lượng 20/100, thấp — hãy lấy lại.');
    expect(finger(1).dataset['low']).toBe('true');
    click(finger(1).querySelector('.btn-capture'));
    await tick(0);
    expect(text('#finger-feedback')).toBe('Ngón cái phải: chất lượng 80/100.');
    click(finger(1).querySelector('.btn-capture'));
    await tick(0);
    expect(text('#finger-feedback')).toBe('Ngón cái phải: lần này 50/100; giữ lần trước tốt hơn (80/100).');
    expect(finger(1).querySelector('.finger-state')?.textContent).toBe('Chất lượng 80/100');
    expect(finger(1).dataset['low']).toBe('false');
  });

  it('records an exception with its reason, and other needs words', async () => {
    const f = fake();
    await openDraft(f);
    const row = finger(10);
    const reason = row.querySelector<HTMLSelectElement>('.exception-reason');
    if (!reason) throw new Error('no reason select');
    reason.value = 'bandaged';
    reason.dispatchEvent(new Event('change', { bubbles: true }));
    click(row.querySelector('.btn-except'));
    await tick(0);
    expect(row.dataset['state']).toBe('excepted');
    expect(row.querySelector('.finger-state')?.textContent).toBe('Không lấy được: Đang băng bó');
    expect(f.calls.filter((c) => c.cmd === 'except_finger').map((c) => c.args)).toEqual([['d-1', 10, 'bandaged', '']]);
    reason.value = 'other';
    reason.dispatchEvent(new Event('change', { bubbles: true }));
    expect(row.querySelector<HTMLInputElement>('.exception-detail')?.hidden).toBe(false);
    click(row.querySelector('.btn-clear'));
    await tick(0);
    expect(row.dataset['state']).toBe('missing');
  });

  it('captures the missing fingers in turn', async () => {
    const f = fake();
    await openDraft(f);
    click($('#btn-capture-all'));
    await tick(0);
    expect(f.calls.filter((c) => c.cmd === 'capture_finger').map((c) => c.args[1])).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(text('#fingers-accounted')).toBe('Đã có 10/10 ngón.');
    expect($('#fingers-accounted').dataset['count']).toBe('10');
  });

  it('shows nothing to capture for a child under 6', async () => {
    const f = fake();
    f.requirement = 'none';
    await openDraft(f);
    expect(text('#capture-rule')).toBe('Người được cấp chưa đủ 6 tuổi: không thu nhận ảnh chân dung và vân tay.');
    expect($('#capture-portrait').hidden).toBe(true);
    expect($('#capture-fingers').hidden).toBe(true);
  });

  it('a refused photo file lists what to fix; a good one is kept', async () => {
    const f = fake();
    f.faceCheck = { score: 31, faces: 1, issues: [{ code: 'tooDark', message: '[fake] tooDark' }] };
    await openDraft(f);
    const input = $input('#portrait-file');
    const choose = (): void => {
      Object.defineProperty(input, 'files', {
        configurable: true,
        value: [new File([new Uint8Array([0xff, 0xd8, 0xff])], 'anh.jpg', { type: 'image/jpeg' })],
      });
      input.dispatchEvent(new Event('change', { bubbles: true }));
    };
    choose();
    await vi.waitFor(() => expect(text('#portrait-issues')).toBe('[fake] tooDark'));
    expect(text('#banner')).toBe('[fake] portraitRefused');
    expect(text('#portrait-state')).toBe('Chưa có ảnh chân dung.');
    f.faceCheck = { score: 88, faces: 1, issues: [] };
    choose();
    await vi.waitFor(() => expect(text('#portrait-state')).toBe('Đã lưu ảnh chân dung, chất lượng 88/100.'));
    expect(text('#portrait-issues')).toBe('');
  });

  it('shows the biometric reasons when finalising is refused', async () => {
    const f = fake();
    await openDraft(f);
    f.scriptError('finalise', {
      code: 'invalidInput',
      message: '[fake] invalidInput',
      fieldErrors: [
        { field: 'biometrics.face', rule: 'required', message: '[fake] face required' },
        { field: 'biometrics.fingers', rule: 'fingersIncomplete', message: '[fake] fingers 3' },
      ],
    });
    click($('#btn-finalise'));
    await tick(0);
    expect($('#capture-errors').hidden).toBe(false);
    expect([...document.querySelectorAll('#capture-errors li')].map((li) => li.textContent)).toEqual([
      '[fake] face required',
      '[fake] fingers 3',
    ]);
  });
});
