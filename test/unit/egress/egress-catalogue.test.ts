import { readFileSync } from 'node:fs';
import path from 'node:path';
import { EGRESS_ERROR_CODES, EgressError, OUTCOME_CODES } from '../../../src/egress/egress-errors';
import { STAGE_NAMES } from '../../../src/twilio/egress/stage';

const docs = readFileSync(path.join(__dirname, '../../../docs/egress.md'), 'utf8');
const headings = [...docs.matchAll(/^### (\S+)\s*$/gm)].map((m) => m[1]!);

describe('egress codes are documented in docs/egress.md', () => {
  it.each(Object.keys(EGRESS_ERROR_CODES))('%s: IE_EGRESS_ prefix, retriable, one section', (code) => {
    expect(code).toMatch(/^IE_EGRESS_[A-Z_]+$/);
    expect(new EgressError(code as keyof typeof EGRESS_ERROR_CODES, 'x').retriable).toBe(true);
    expect(headings.filter((h) => h === code)).toHaveLength(1);
  });

  it.each(Object.keys(OUTCOME_CODES))('outcome code %s has one section', (code) => {
    expect(headings.filter((h) => h === code)).toHaveLength(1);
  });

  it('documents no egress code that does not exist', () => {
    const known = new Set([...Object.keys(EGRESS_ERROR_CODES), ...Object.keys(OUTCOME_CODES)]);
    for (const h of headings.filter((x) => /^[A-Z][A-Z0-9_]+$/.test(x))) expect(known.has(h)).toBe(true);
  });

  it('lists every stage in the stage table', () => {
    for (const s of STAGE_NAMES) expect(docs).toContain(`| \`${s}\` |`);
  });
});
