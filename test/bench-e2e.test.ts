/** bench/e2e.ts: the rows of `npm run bench -- --e2e`. */
import * as assert from 'node:assert';
import { parseE2eRows } from '../bench/e2e';

describe('bench --e2e rows', () => {
  it('reads arch:method:batch rows in order', () => {
    assert.deepEqual(parseE2eRows('convnet:moco:128,resnet18:mixco-simclr:256'), [
      { arch: 'convnet', method: 'moco', batch: 128 },
      { arch: 'resnet18', method: 'mixco-simclr', batch: 256 },
    ]);
  });

  it('names the row at fault', () => {
    assert.throws(() => parseE2eRows('convnet:moco:128,vit:moco:128'), /'vit:moco:128' is not arch:method:batch/);
    assert.throws(() => parseE2eRows('convnet:byol:128'), /'convnet:byol:128'/);
    assert.throws(() => parseE2eRows('convnet:moco:0'), /'convnet:moco:0'/);
    assert.throws(() => parseE2eRows('convnet:moco'), /'convnet:moco'/);
  });
});
