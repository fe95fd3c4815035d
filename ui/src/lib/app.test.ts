import { describe, expect, it } from 'vitest';
import indexHtml from '../../index.html?raw';

describe('index.html', () => {
  it('declares Vietnamese, the default language, before any script runs', () => {
    expect(indexHtml).toMatch(/<html\s+lang="vi"\s*>/);
  });
});
