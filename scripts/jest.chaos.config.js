/** The resilience suite (npm run test:chaos): test/chaos/*.chaos.ts, never part of npm test. See scripts/chaos.sh. */
module.exports = {
  rootDir: '..',
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.chaos.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }] },
  testTimeout: 40 * 60 * 1000,
  // Kafka clients of a failed run may still retry against a restarting broker: do not hang the suite on them.
  forceExit: true,
};
