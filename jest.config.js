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
  // Per-folder floors (lines, branches, functions, statements): the full run's measured figures rounded down
  // (scripts/coverage-floors.ts; docs/contributing.md "Quality gates"). Every folder of src/ has one.
  coverageThreshold: {
    './src/api-kit/': { lines: 98, branches: 92, functions: 94, statements: 98 },
    './src/api/': { lines: 94, branches: 83, functions: 87, statements: 94 },
    './src/cli/': { lines: 77, branches: 59, functions: 77, statements: 77 },
    './src/cli/commands/': { lines: 82, branches: 58, functions: 76, statements: 82 },
    './src/common/': { lines: 98, branches: 97, functions: 95, statements: 98 },
    './src/compliance/': { lines: 98, branches: 93, functions: 99, statements: 98 },
    './src/config/': { lines: 98, branches: 89, functions: 99, statements: 98 },
    './src/connector/': { lines: 0, branches: 0, functions: 0, statements: 0 },
    './src/egress/': { lines: 96, branches: 81, functions: 90, statements: 96 },
    './src/envelope/': { lines: 99, branches: 79, functions: 99, statements: 99 },
    './src/envelope/codecs/': { lines: 99, branches: 93, functions: 99, statements: 99 },
    './src/errors/': { lines: 100, branches: 84, functions: 99, statements: 100 },
    './src/kafka/': { lines: 97, branches: 92, functions: 96, statements: 97 },
    './src/main.ts': { lines: 0, branches: 0, functions: 0, statements: 0 },
    './src/observability/': { lines: 99, branches: 87, functions: 91, statements: 99 },
    './src/resilience/': { lines: 99, branches: 92, functions: 95, statements: 99 },
    './src/server/': { lines: 97, branches: 92, functions: 88, statements: 97 },
    './src/sms/': { lines: 99, branches: 96, functions: 99, statements: 99 },
    './src/telemetry/': { lines: 98, branches: 20, functions: 99, statements: 98 },
    './src/twilio/': { lines: 92, branches: 84, functions: 94, statements: 92 },
    './src/twilio/conversations/': { lines: 91, branches: 83, functions: 93, statements: 91 },
    './src/twilio/egress/': { lines: 91, branches: 79, functions: 95, statements: 91 },
    './src/twilio/egress/stages/': { lines: 92, branches: 80, functions: 94, statements: 92 },
    './src/twilio/rest/': { lines: 100, branches: 92, functions: 99, statements: 100 },
    './src/twilio/voice-egress/': { lines: 87, branches: 78, functions: 91, statements: 87 },
    './src/twilio/voice-egress/stages/': { lines: 92, branches: 82, functions: 94, statements: 92 },
    './src/twilio/voice/': { lines: 95, branches: 87, functions: 95, statements: 95 },
    './src/twilio/webhooks/': { lines: 98, branches: 93, functions: 97, statements: 98 },
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
