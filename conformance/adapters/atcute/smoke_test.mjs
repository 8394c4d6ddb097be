// Smoke test for the adapter: starts server.mjs on a free port, sends a few
// requests over 127.0.0.1 and checks the answers. The suite is shared with the
// other adapters: ../common/smoke.mjs.
// Run: node --test smoke_test.mjs   (needs node_modules: ./run.sh or npm ci first)

import { COMMON_VERDICTS, smokeTest } from '../common/smoke.mjs';

smokeTest({
  folder: new URL('.', import.meta.url),
  name: 'atcute',
  verdicts: COMMON_VERDICTS,
});
