// Four layers (see docs/contributing.md): unit is pure and fast; integration, contract and
// e2e use the local Kafka-protocol broker, real HTTP and the Twilio simulator.
const swc = (syntax) => ['@swc/jest', { jsc: { parser: { syntax }, target: 'es2022' }, module: { type: 'commonjs' } }];
const transform = {
  '^.+\\.ts$': swc('typescript'),
  // cookie@2 (used by fastify's inject) ships only ES modules, which jest cannot require.
  '/node_modules/cookie/.+\\.js$': swc('ecmascript'),
};
const transformIgnorePatterns = ['/node_modules/(?!cookie/)'];
const project = (name, extra = {}) => ({
  displayName: name,
  testEnvironment: 'node',
  transform,
  transformIgnorePatterns,
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
