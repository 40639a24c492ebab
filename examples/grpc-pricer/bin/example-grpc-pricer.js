#!/usr/bin/env node
// The example's command: a committed file loading the build, so that npm links it on a fresh clone
// (it links commands before `prepare` builds dist/; see services/cli/bin/surrogate.js).
'use strict';
require('../dist/main.js');
