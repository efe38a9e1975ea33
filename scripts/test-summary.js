#!/usr/bin/env node
// Prints one closing line for every jest JSON report given: "tests: N passed, N failed, N skipped".
const fs = require('node:fs');
let passed = 0,
  failed = 0,
  skipped = 0;
for (const f of process.argv.slice(2)) {
  if (!fs.existsSync(f)) continue;
  const r = JSON.parse(fs.readFileSync(f, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests + (r.numRuntimeErrorTestSuites || 0);
  skipped += r.numPendingTests + r.numTodoTests;
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
