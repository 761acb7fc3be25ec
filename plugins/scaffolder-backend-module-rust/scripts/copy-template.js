#!/usr/bin/env node
// The Rust service template has one source, the repository's templates/rust-service (which this
// repository's catalog, tests and e2e journeys use). The package ships a copy of it, made here at
// pack time (prepack) and removed again after (postpack), so an installed app can register
// node_modules/<this package>/templates/rust-service/template.yaml without this repository.
const fs = require('fs');
const path = require('path');

const source = path.resolve(__dirname, '../../../templates/rust-service');
const target = path.resolve(__dirname, '../templates');

fs.rmSync(target, { recursive: true, force: true });
if (process.argv[2] !== '--remove') {
  if (!fs.existsSync(path.join(source, 'template.yaml'))) {
    throw new Error(`copy-template: no template at ${source}`);
  }
  fs.cpSync(source, path.join(target, 'rust-service'), {
    recursive: true,
    verbatimSymlinks: true,
  });
}
