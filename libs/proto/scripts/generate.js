#!/usr/bin/env node
// Generates libs/proto/src/gen/wire.{js,d.ts} from every .proto under proto/ with protobufjs's
// static code generator. The generated files are build output (git-ignored): the .proto files are
// the single source of every wire type.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '../../..');
const protoDir = path.join(root, 'proto');
const outDir = path.resolve(__dirname, '../src/gen');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);

function protoFiles(dir) {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? protoFiles(path.join(dir, e.name)) : e.name.endsWith('.proto') ? [path.join(dir, e.name)] : []))
    .sort();
}

fs.mkdirSync(outDir, { recursive: true });
const js = path.join(outDir, 'wire.js');
const dts = path.join(outDir, 'wire.d.ts');
execFileSync(
  bin('pbjs'),
  ['-t', 'static-module', '-w', 'commonjs', '--force-number', '--no-beautify', '-p', protoDir, '-o', js, ...protoFiles(protoDir)],
  { stdio: 'inherit' },
);
execFileSync(bin('pbts'), ['--no-comments', '-o', dts, js], { stdio: 'inherit' });
// Ship the generated pair next to the compiled index.
const distGen = path.resolve(__dirname, '../dist/gen');
fs.mkdirSync(distGen, { recursive: true });
fs.copyFileSync(js, path.join(distGen, 'wire.js'));
fs.copyFileSync(dts, path.join(distGen, 'wire.d.ts'));
