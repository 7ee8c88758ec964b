/**
 * The backend the training and evaluation tests run on: wasm by default, another with
 * CWB_TEST_BACKEND (`npm run test:tensorflow` runs those tests again on the tensorflow backend, as
 * most users train). A backend that is not there skips the suite with the reason, except under
 * CI=true, where it fails: CI tests what users run.
 */
import { initBackend, type BackendName } from '../src/backend/init';

export const TEST_BACKEND = (process.env.CWB_TEST_BACKEND || 'wasm') as BackendName;

/** In a `before` hook: activates TEST_BACKEND, or skips the suite when it cannot load (fails in CI). */
export async function initTestBackend(ctx: Mocha.Context): Promise<void> {
  try {
    await initBackend(TEST_BACKEND, { quiet: true });
  } catch (e) {
    if (TEST_BACKEND === 'wasm' || process.env.CI === 'true') throw e;
    // eslint-disable-next-line no-console
    console.log(`      skipped: ${(e as Error).message.slice(0, 300)}`);
    ctx.skip();
  }
}
