// Four layers (see docs/contributing.md): unit is pure and fast; integration, contract and
// e2e use Apache Kafka (scripts/kafka.sh; the mock for the smoke run), real HTTP and the Twilio simulator.
const swc = (syntax) => ['@swc/jest', { jsc: { parser: { syntax }, target: 'es2022' }, module: { type: 'commonjs' } }];
const transform = { '^.+\\.ts$': swc('typescript') };
// The workspace packages are tested from their sources (no build needed first).
const moduleNameMapper = {
  '^@ingress-egress/twilio-simulator$': '<rootDir>/packages/twilio-simulator/src/index.ts',
  '^@ingress-egress/sandbox$': '<rootDir>/packages/sandbox/src/index.ts',
};
const project = (name, extra = {}) => ({
  displayName: name,
  testEnvironment: 'node',
  transform,
  moduleNameMapper,
  testMatch: [`<rootDir>/test/${name}/**/*.test.ts`, `<rootDir>/packages/*/test/${name}/**/*.test.ts`],
  ...extra,
});
module.exports = {
  projects: [
    project('unit'),
    project('integration', { globalSetup: '<rootDir>/test/helpers/global-setup.ts', globalTeardown: '<rootDir>/test/helpers/global-teardown.ts' }),
    project('contract'),
    // The reliability suite (npm run test:reliability; the short form in validate_deliverable.sh): the built
    // service under faults, each scenario writing its row for docs/reliability.md.
    project('reliability', { globalSetup: '<rootDir>/test/helpers/global-setup.ts', globalTeardown: '<rootDir>/test/helpers/global-teardown.ts' }),
    project('e2e', { globalSetup: '<rootDir>/test/helpers/global-setup.ts', globalTeardown: '<rootDir>/test/helpers/global-teardown.ts' }),
  ],
};
