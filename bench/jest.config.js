// The shared preset, plus a global teardown that stops the real broker if these tests started it.
module.exports = {
  ...require('../jest.preset.js')(__dirname),
  globalTeardown: require.resolve('@surrogate/testing/dist/global-teardown.js'),
};
