// Four layers (see STYLE.md): unit is pure and fast; integration, contract and
// e2e use the local Kafka-protocol broker, real HTTP and the Twilio simulator.
const transform = {
  '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
};
const project = (name, extra = {}) => ({
  displayName: name,
  testEnvironment: 'node',
  transform,
  testMatch: [`<rootDir>/test/${name}/**/*.test.ts`],
  ...extra,
});
module.exports = {
  projects: [
    project('unit'),
    project('integration', { globalSetup: '<rootDir>/test/helpers/global-setup.ts', globalTeardown: '<rootDir>/test/helpers/global-teardown.ts' }),
    project('contract'),
    project('e2e', { globalSetup: '<rootDir>/test/helpers/global-setup.ts', globalTeardown: '<rootDir>/test/helpers/global-teardown.ts' }),
  ],
};
