import { describe, expect, it } from 'vitest';
import { FakeBackend, fakeErrorMessage, fakeFieldError } from './fake';

// The fake holds no rule: it answers what a test scripts, nothing else.
const odd = { birthName: '12 !!', dateOfBirth: '1800-13-45', sex: '' as const, personalId: 'abc' };

describe('FakeBackend', () => {
  it('finds nothing wrong unless a test scripts it', async () => {
    const fake = new FakeBackend({ state: 'unlocked' });
    expect(await fake.validateEnrollment(odd)).toEqual([]);
    const saved = await fake.saveDraft(null, odd);
    expect(saved.errors).toEqual([]);
    expect((await fake.finalise(saved.id)).state).toBe('sealed');
    const setup = new FakeBackend({ state: 'needsSetup' });
    expect((await setup.createOperator('', '', 'x')).state).toBe('unlocked');
  });

  it('answers with scripted, obviously fake errors', async () => {
    const fake = new FakeBackend({ state: 'unlocked', language: 'en' });
    fake.scriptValidation((input, lang) => [fakeFieldError('birthName', `${lang}:${input.birthName}`)]);
    expect(await fake.validateEnrollment(odd)).toEqual([
      { field: 'birthName', rule: 'en:12 !!', message: '[fake] birthName/en:12 !!' },
    ]);
    const { id, errors } = await fake.saveDraft(null, odd);
    expect(errors).toHaveLength(1);
    await expect(fake.finalise(id)).rejects.toEqual({
      code: 'invalidInput',
      message: fakeErrorMessage('invalidInput'),
      fieldErrors: errors,
    });

    const setup = new FakeBackend({ state: 'needsSetup' });
    setup.scriptOperatorValidation(() => [fakeFieldError('passphrase', 'tooShort')]);
    await expect(setup.createOperator('A', 'b', 'b')).rejects.toMatchObject({
      code: 'invalidInput',
      message: '[fake] invalidInput',
      fieldErrors: [{ field: 'passphrase', rule: 'tooShort', message: '[fake] passphrase/tooShort' }],
    });
  });
});
