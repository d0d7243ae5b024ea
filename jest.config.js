/** One real stack for every test file (test/helpers/globalSetup.ts); files run one at a time on 2 cores. */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  globalSetup: '<rootDir>/test/helpers/globalSetup.ts',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }] },
  testTimeout: 180000,
  // A batch workflow terminated mid-round (test/faults.workflow.test.ts) leaves a few kafkajs sockets of the worker's
  // activities open after the worker has stopped (no activity is in flight then); they would keep jest alive.
  forceExit: true,
};
