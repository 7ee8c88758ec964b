/**
 * Where each downloadable dataset comes from, with the official checksums. The same table is
 * written to `data/manifest.json` for people and scripts; a test keeps the two in agreement.
 */

export interface RemoteFile {
  /** File name on disk (inside the dataset's folder, or the data root for archives). */
  file: string;
  /** Mirrors, tried in order. */
  urls: string[];
  md5: string;
}

export interface DatasetSource {
  /** Folder (under the data root) the files end up in. */
  folder: string;
  files: RemoteFile[];
  /** For archives: the folder the archive extracts to (under the data root). */
  extractsTo?: string;
  /** Where the checksums were read. */
  reference: string;
}

export const DATASET_SOURCES: Record<'cifar10' | 'cifar100' | 'fashion-mnist' | 'mnist', DatasetSource> = {
  cifar10: {
    folder: '.',
    extractsTo: 'cifar-10-batches-bin',
    files: [
      {
        file: 'cifar-10-binary.tar.gz',
        urls: ['https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz'],
        md5: 'c32a1d4ab5d03f1284b67883e8d87530',
      },
    ],
    reference: 'https://www.cs.toronto.edu/~kriz/cifar.html',
  },
  cifar100: {
    folder: '.',
    extractsTo: 'cifar-100-binary',
    files: [
      {
        file: 'cifar-100-binary.tar.gz',
        urls: ['https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz'],
        md5: '03b5dce01913d631647c71ecec9e9cb8',
      },
    ],
    reference: 'https://www.cs.toronto.edu/~kriz/cifar.html',
  },
  'fashion-mnist': {
    folder: 'fashion-mnist',
    files: [
      ['train-images-idx3-ubyte.gz', '8d4fb7e6c68d591d4c3dfef9ec88bf0d'],
      ['train-labels-idx1-ubyte.gz', '25c81989df183df01b3e8a0aad5dffbe'],
      ['t10k-images-idx3-ubyte.gz', 'bef4ecab320f06d8554ea6380940ec79'],
      ['t10k-labels-idx1-ubyte.gz', 'bb300cfdad3c16e7a12a480ee83cd310'],
    ].map(([file, md5]) => ({
      file,
      md5,
      urls: [
        `http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/${file}`,
        `https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/${file}`,
      ],
    })),
    reference: 'https://github.com/zalandoresearch/fashion-mnist (README) and torchvision.datasets.FashionMNIST',
  },
  mnist: {
    folder: 'mnist',
    files: [
      ['train-images-idx3-ubyte.gz', 'f68b3c2dcbeaaa9fbdd348bbdeb94873'],
      ['train-labels-idx1-ubyte.gz', 'd53e105ee54ea40749a09fcbcd1e9432'],
      ['t10k-images-idx3-ubyte.gz', '9fb629c4189551a2d022fa330f9573f3'],
      ['t10k-labels-idx1-ubyte.gz', 'ec29112dd5afa0611ce80d1b7f02629c'],
    ].map(([file, md5]) => ({
      file,
      md5,
      urls: [
        `https://ossci-datasets.s3.amazonaws.com/mnist/${file}`,
        `https://storage.googleapis.com/cvdf-datasets/mnist/${file}`,
      ],
    })),
    reference: 'torchvision.datasets.MNIST resources',
  },
};
