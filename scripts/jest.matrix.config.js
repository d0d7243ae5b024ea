/** The compatibility matrix (npm run test:matrix): test/matrix/*.matrix.ts, never part of npm test (its CI subset, test/matrix/ciSubset.test.ts, is). See scripts/matrix.sh. */
module.exports = {
  rootDir: '..',
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.matrix.ts'],
  globalSetup: '<rootDir>/test/helpers/globalSetup.ts',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }] },
  testTimeout: 60 * 60 * 1000,
  forceExit: true,
};
