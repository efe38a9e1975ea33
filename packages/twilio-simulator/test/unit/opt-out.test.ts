import { OPT_OUT_KEYWORDS, optOutTypeOf } from '../../src';
import { ANY_SENDER, OptOutList } from '../../src/opt-out';

describe("Advanced Opt-Out's default keywords", () => {
  const cases: [string, string][] = [
    ...OPT_OUT_KEYWORDS.STOP.map((w): [string, string] => [w, 'STOP']),
    ...OPT_OUT_KEYWORDS.START.map((w): [string, string] => [w, 'START']),
    ...OPT_OUT_KEYWORDS.HELP.map((w): [string, string] => [w, 'HELP']),
    ['  stop\n', 'STOP'],
    ['Stop', 'STOP'],
  ];
  it.each(cases)('%j is %s', (body, type) => {
    expect(optOutTypeOf(body)).toBe(type);
  });

  it.each(['stop please', 'STOP!', 'halt', '', 'HELP ME'])('%j is not a keyword (single words only)', (body) => {
    expect(optOutTypeOf(body)).toBeUndefined();
  });
});

describe('OptOutList', () => {
  const A = 'AC1';
  it('blocks a sender scope, and account-wide entries block every sender', () => {
    const list = new OptOutList();
    list.add(A, '+1555', '+1999');
    expect(list.isOptedOut(A, '+1555', ['+1999'])).toBe(true);
    expect(list.isOptedOut(A, '+1555', ['+1888'])).toBe(false);
    expect(list.isOptedOut('AC2', '+1555', ['+1999'])).toBe(false);
    list.add(A, '+1666', ANY_SENDER);
    expect(list.isOptedOut(A, '+1666', ['+1888', null])).toBe(true);
  });

  it('START removes the scoped and the account-wide entry', () => {
    const list = new OptOutList();
    list.add(A, '+1555', '+1999');
    list.add(A, '+1555');
    list.remove(A, '+1555', '+1999');
    expect(list.isOptedOut(A, '+1555', ['+1999'])).toBe(false);
    expect(list.list()).toEqual([]);
  });
});
