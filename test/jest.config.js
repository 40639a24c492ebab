// System tests: real processes, a real broker (started if none runs; stopped again if started here).
module.exports = {
  ...require('../jest.preset.js')(__dirname),
  testTimeout: 300_000,
  globalTeardown: require.resolve('@surrogate/testing/dist/global-teardown.js'),
};
