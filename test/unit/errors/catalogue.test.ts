import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ERROR_CODES, IngressEgressError, isRetriable } from '../../../src/errors';
import { PHONE_REJECTION_CODES } from '../../../src/sms/phone';
import { TEMPLATE_REJECTION_CODES } from '../../../src/sms/templates';
import { SMS_REJECTION_CODES } from '../../../src/sms/validate';

const docs = readFileSync(path.join(__dirname, '../../../docs/errors.md'), 'utf8');
const headings = [...docs.matchAll(/^### (\S+)\s*$/gm)].map((m) => m[1]!);

describe('service error codes (ERROR_CODES)', () => {
  const codes = Object.keys(ERROR_CODES);

  it('all carry the IE_ prefix and are unique ignoring case', () => {
    for (const code of codes) expect(code).toMatch(/^IE_[A-Z0-9_]+$/);
    expect(new Set(codes.map((c) => c.toUpperCase())).size).toBe(codes.length);
  });

  it.each(codes)('%s has a description and exactly one section in docs/errors.md', (code) => {
    const entry = ERROR_CODES[code as keyof typeof ERROR_CODES];
    expect(entry.description.length).toBeGreaterThan(10);
    expect(headings.filter((h) => h === code)).toHaveLength(1);
  });

  it.each(codes)('%s: an error built with it takes the catalogue’s retriable flag', (code) => {
    const err = new IngressEgressError(code, 'x');
    expect(isRetriable(err)).toBe(ERROR_CODES[code as keyof typeof ERROR_CODES].retriable);
  });

  it('documents no IE_ code that does not exist', () => {
    for (const h of headings.filter((x) => x.startsWith('IE_'))) expect(codes).toContain(h);
  });
});

describe('message rejection codes (src/sms)', () => {
  const codes = [...PHONE_REJECTION_CODES, ...SMS_REJECTION_CODES, ...TEMPLATE_REJECTION_CODES];

  it('all carry the SMS_ prefix and are unique', () => {
    for (const code of codes) expect(code).toMatch(/^SMS_[A-Z0-9_]+$/);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it.each(codes)('%s has exactly one section in docs/errors.md', (code) => {
    expect(headings.filter((h) => h === code)).toHaveLength(1);
  });

  it('documents no SMS_ code that does not exist', () => {
    for (const h of headings.filter((x) => x.startsWith('SMS_'))) expect(codes as string[]).toContain(h);
  });
});
