import { checkPackContents } from '../../../scripts/pack-contents';

const sources = new Set(['src/main', 'src/cli/cli', 'src/kafka/topics']);
const hasSource = (stem: string) => sources.has(stem);

describe('checkPackContents', () => {
  it('accepts the service: top-level files and the build of src/', () => {
    expect(
      checkPackContents(
        ['package.json', 'README.md', 'dist/src/main.js', 'dist/src/main.d.ts', 'dist/src/kafka/topics.js.map'],
        hasSource,
      ),
    ).toEqual([]);
  });

  it('names a planted simulator, sandbox, test double, test or script', () => {
    const problems = checkPackContents(
      [
        'dist/src/simulator/twilio-simulator.js',
        'dist/src/sandbox/sandbox.js',
        'dist/src/kafka/local-broker.js',
        'dist/test/helpers/memory-send-ledger.js',
        'packages/twilio-simulator/dist/index.js',
        'dist/scripts/check-architecture.js',
        'test/unit/x.test.ts',
      ],
      hasSource,
    );
    expect(problems).toHaveLength(7);
    expect(problems[0]).toMatch(/dist\/src\/simulator\/twilio-simulator\.js has no source under src\//);
    expect(problems[3]).toMatch(/dist\/test\/helpers\/memory-send-ledger\.js is not part of the service/);
  });
});
