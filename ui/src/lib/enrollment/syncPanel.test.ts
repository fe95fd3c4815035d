import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { App } from '../app';
import { FakeBackend, type FakeRecord } from '../backend/fake';
import { $, boot, text, tick } from '../testing';
import { formatStamp, SYNC_POLL_INTERVAL_MS } from './syncPanel';

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

// Local times, so the expected text does not depend on the machine's time zone.
const CONTACT = new Date(2026, 0, 5, 9, 7, 30).toISOString();
const ATTEMPT = new Date(2026, 0, 5, 9, 12, 0).toISOString();
const RETRY = new Date(2026, 0, 5, 9, 12, 4).toISOString();

function rec(id: string, state: FakeRecord['state'], extra: Partial<FakeRecord> = {}): FakeRecord {
  return {
    id,
    input: { birthName: 'Nguyễn Văn An', dateOfBirth: '1990-01-31', sex: 'male', personalId: '001090123456' },
    state,
    receiptId: null,
    reason: null,
    updatedAt: ATTEMPT,
    ...extra,
  };
}

function registryDown(records: FakeRecord[], message: string): FakeBackend {
  return new FakeBackend({
    state: 'unlocked',
    enrollments: records,
    sync: {
      lastContactAt: null,
      lastAttemptAt: ATTEMPT,
      lastError: { code: 'unreachable', message },
      nextRetryAt: RETRY,
    },
  });
}

describe('sync panel', () => {
  it('says when the link is down and when the data allowance is used up, in Vietnamese', async () => {
    const fake = registryDown([rec('e-1', 'sealed')], '[fake] unreachable vi');
    fake.sync.offline = true;
    app = await boot(fake);
    expect(text('#sync-activity')).toBe('Chưa kết nối được máy chủ; sẽ kiểm tra lại lúc 09:12:04.');

    // Back on line, but today's allowance is spent: the panel says until when.
    fake.sync = { ...fake.sync, offline: false, lastError: null, budgetUntilAt: CONTACT };
    await tick(SYNC_POLL_INTERVAL_MS);
    expect(text('#sync-activity')).toBe('Đã dùng hết hạn mức dữ liệu để gửi; sẽ gửi tiếp lúc 09:07 05/01/2026.');

    // The window rolled over: the ordinary next try again.
    fake.sync = { ...fake.sync, budgetUntilAt: null };
    await tick(SYNC_POLL_INTERVAL_MS);
    expect(text('#sync-activity')).toBe('Thử lại lúc 09:12:04');
  });

  it('formats a time as HH:MM dd/mm/yyyy', () => {
    expect(formatStamp(CONTACT)).toBe('09:07 05/01/2026');
    expect(formatStamp(new Date(2025, 11, 31, 23, 59).toISOString())).toBe('23:59 31/12/2025');
    expect(formatStamp('not a time')).toBe('not a time');
  });

  it('shows in Vietnamese what waits while the registry is down, then the last contact once it is up', async () => {
    const fake = registryDown([rec('e-1', 'sealed'), rec('e-0', 'rejected', { reason: 'Trùng hồ sơ.' })], '[fake] unreachable vi');
    app = await boot(fake);
    expect($('#sync-panel').hidden).toBe(false);
    expect(text('#sync-title')).toBe('Gửi hồ sơ về trung tâm');
    expect(text('#sync-last-contact')).toBe('Lần liên lạc cuối: chưa liên lạc được lần nào');
    expect(text('#sync-waiting')).toBe('Đang chờ gửi: 1');
    expect($('#sync-panel').dataset['waiting']).toBe('1');
    expect(text('#sync-activity')).toBe('Thử lại lúc 09:12:04');
    expect(text('#sync-counts')).toBe('Đã gửi: 0 · Bị từ chối: 1');
    expect(text('#sync-error')).toBe('Lần thử lúc 09:12 05/01/2026 không thành công: [fake] unreachable vi');
    expect($('#sync-panel').dataset['error']).toBe('unreachable');

    // Sending now.
    fake.sync.uploading = true;
    fake.advanceUploads();
    await tick(SYNC_POLL_INTERVAL_MS);
    expect(text('#sync-activity')).toBe('Đang gửi…');
    expect(text('#sync-waiting')).toBe('Đang chờ gửi: 1');

    // The registry answered: delivered, nothing waits, no error.
    fake.advanceUploads();
    fake.sync = { ...fake.sync, lastContactAt: CONTACT, lastAttemptAt: CONTACT, lastError: null, uploading: false, nextRetryAt: null };
    await tick(SYNC_POLL_INTERVAL_MS);
    expect(text('#sync-last-contact')).toBe('Lần liên lạc cuối: 09:07 05/01/2026');
    expect(text('#sync-waiting')).toBe('Đang chờ gửi: 0');
    expect(text('#sync-activity')).toBe('Không có hồ sơ nào chờ gửi.');
    expect(text('#sync-counts')).toBe('Đã gửi: 1 · Bị từ chối: 1');
    expect($('#sync-error').hidden).toBe(true);
    expect(text('#sync-error')).toBe('');
    // The row says the same: delivered, with its receipt id.
    const row = $('#enrollment-list [data-enrollment-id="e-1"]');
    expect(row.querySelector('.state-label')?.textContent).toBe('Đã gửi, trung tâm đã chấp nhận');
    expect(row.querySelector('.receipt-id')?.textContent).toBe('BN-000001');
  });

  it('shows the same facts in English, and follows the language toggle', async () => {
    localStorage.setItem('ghidanh.lang', 'en');
    const fake = registryDown([rec('e-1', 'sealed'), rec('e-2', 'uploading'), rec('e-3', 'custody')], '[fake] unreachable en');
    app = await boot(fake);
    expect(text('#sync-title')).toBe('Sending to the registry');
    expect(text('#sync-last-contact')).toBe('Last contact: never');
    expect(text('#sync-waiting')).toBe('Waiting: 2');
    expect(text('#sync-activity')).toBe('Next try at 09:12:04');
    expect(text('#sync-counts')).toBe('Delivered: 0 · Refused: 0 · Held by the district relay: 1');
    expect(text('#sync-error')).toBe('The attempt at 09:12 05/01/2026 failed: [fake] unreachable en');
    const label = (id: string): string => $(`#enrollment-list [data-enrollment-id="${id}"] .state-label`).textContent ?? '';
    expect(label('e-1')).toBe('Sealed, waiting to send');
    expect(label('e-2')).toBe('Sending');

    fake.sync = { ...fake.sync, lastContactAt: CONTACT, lastAttemptAt: CONTACT, lastError: null, uploading: false, nextRetryAt: null };
    await tick(SYNC_POLL_INTERVAL_MS);
    expect(text('#sync-last-contact')).toBe('Last contact: 09:07 05/01/2026');

    $('#lang-toggle').click();
    await tick(0);
    expect(text('#sync-title')).toBe('Gửi hồ sơ về trung tâm');
    expect(text('#sync-last-contact')).toBe('Lần liên lạc cuối: 09:07 05/01/2026');
    expect(text('#sync-waiting')).toBe('Đang chờ gửi: 2');
  });

  it('polls sync_status every two seconds and stops when the screen goes', async () => {
    const fake = registryDown([], '[fake] unreachable');
    app = await boot(fake);
    const polls = (): number => fake.calls.filter((c) => c.cmd === 'sync_status').length;
    const first = polls();
    expect(first).toBeGreaterThanOrEqual(1);
    await tick(SYNC_POLL_INTERVAL_MS * 2);
    expect(polls()).toBe(first + 2);
    expect(text('#sync-waiting')).toBe('Đang chờ gửi: 0');
    app.dispose();
    app = null;
    const after = polls();
    await tick(SYNC_POLL_INTERVAL_MS * 2);
    expect(polls()).toBe(after);
  });
});
