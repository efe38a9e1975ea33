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
  // Coverage (validate_deliverable.sh passes --coverage to its one run of unit + integration + contract + e2e):
  // V8's own counters, mapped back to the TypeScript through swc's inline source maps.
  coverageProvider: 'v8',
  collectCoverageFrom: ['<rootDir>/src/**/*.ts'],
  coverageDirectory: '<rootDir>/build/coverage',
  coverageReporters: ['text-summary', 'json-summary', 'json'],
  // Per-folder floors (lines, branches, functions, statements), rounded down. PROVISIONAL: measured on the unit
  // project alone (the combined run can only be higher); re-measure with the full run and raise them.
  coverageThreshold: {
    './src/api/': { lines: 87, branches: 72, functions: 68, statements: 87 },
    './src/api-kit/': { lines: 98, branches: 93, functions: 95, statements: 98 },
    './src/cli/': { lines: 27, branches: 50, functions: 43, statements: 27 },
    './src/common/': { lines: 98, branches: 98, functions: 96, statements: 98 },
    './src/compliance/': { lines: 90, branches: 92, functions: 86, statements: 90 },
    './src/config/': { lines: 98, branches: 89, functions: 100, statements: 98 },
    './src/egress/': { lines: 78, branches: 82, functions: 71, statements: 78 },
    './src/envelope/': { lines: 99, branches: 79, functions: 100, statements: 99 },
    './src/errors/': { lines: 100, branches: 85, functions: 100, statements: 100 },
    './src/kafka/': { lines: 90, branches: 87, functions: 91, statements: 90 },
    './src/observability/': { lines: 98, branches: 89, functions: 88, statements: 98 },
    './src/resilience/': { lines: 99, branches: 91, functions: 96, statements: 99 },
    './src/server/': { lines: 94, branches: 87, functions: 81, statements: 94 },
    './src/sms/': { lines: 99, branches: 97, functions: 100, statements: 99 },
    './src/twilio/': { lines: 86, branches: 84, functions: 82, statements: 86 },
    './src/twilio/webhooks/': { lines: 97, branches: 93, functions: 97, statements: 97 },
  },
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
