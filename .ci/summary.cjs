// The closing lines of a CI run, so that the end of its output (often all that is kept) says what
// failed: each failed test with the start of its message, each unhandled error vitest printed,
// then the counts. Reads vitest's JSON report and the saved output of the test command.
const fs = require('node:fs');
const [report, log] = process.argv.slice(2);
const plain = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');
// the first lines of a message, without the frames of node_modules and node's internals
const head = (s, lines) =>
  plain(s)
    .split('\n')
    .filter((l) => !/node_modules|node:internal|\(<anonymous>\)/.test(l))
    .slice(0, lines)
    .map((l) => `    ${l}`)
    .join('\n');

if (log && fs.existsSync(log)) {
  const text = plain(fs.readFileSync(log, 'utf8'));
  const start = text.indexOf('Unhandled Error');
  if (start >= 0) {
    const end = text.indexOf('Test Files', start);
    console.log('Unhandled errors:');
    console.log(head(text.slice(start, end < 0 ? undefined : end), 40));
  }
}
if (!fs.existsSync(report)) process.exit(0);
const r = JSON.parse(fs.readFileSync(report, 'utf8'));
for (const file of r.testResults) {
  const failed = file.assertionResults.filter((t) => t.status === 'failed');
  if (failed.length === 0 && file.status === 'failed' && file.message)
    console.log(`FAILED ${file.name}\n${head(file.message, 12)}`);
  for (const t of failed)
    console.log(`FAILED ${file.name} > ${t.fullName}\n${head((t.failureMessages ?? []).join('\n'), 12)}`);
}
console.log(
  `Tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`,
);
