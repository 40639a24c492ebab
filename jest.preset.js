// Shared jest settings. Tests are written in TypeScript next to the code they test and run
// compiled (dist/), so that worker threads, which need JavaScript entry files, run exactly
// the code that ships.
module.exports = (projectDir) => ({
  rootDir: projectDir,
  roots: ['<rootDir>/dist'],
  testMatch: ['**/*.test.js'],
  // Node's environment, with the outer realm's typed arrays (see jest.environment.js).
  testEnvironment: require.resolve('./jest.environment.js'),
  testTimeout: 30000,
  maxWorkers: 1,
});
