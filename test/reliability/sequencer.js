// The reliability scenarios run in their numbered order (s1-..., s8-audit last: it reads what the others printed).
const Sequencer = require('@jest/test-sequencer').default;

class ByName extends Sequencer {
  sort(tests) {
    return [...tests].sort((a, b) => a.path.localeCompare(b.path));
  }
}

module.exports = ByName;
