/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }] },
  testTimeout: 30000,
  // Says once when TEST_DATABASE_URL is unset, i.e. the PostgreSQL half is skipped.
  globalSetup: '<rootDir>/test/support/global-setup.js',
};
