/**
 * Synchronous size/channel probes of PNG and JPEG headers, so `datasetInfo` can describe a
 * class-folder dataset without decoding (decoding with sharp is asynchronous).
 */
import * as fs from 'fs';

export interface ImageProbe {
  width: number;
  height: number;
  /** 1 (grey, grey+alpha) or 3 (RGB, RGBA, palette). */
  channels: number;
  /** True for PNGs with an alpha channel (grey+alpha, RGBA). */
  alpha?: boolean;
}

/** Width, height and channels from a PNG or JPEG header; undefined for other formats. */
export function probeImageSync(file: string): ImageProbe | undefined {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(65536);
    const len = fs.readSync(fd, head, 0, head.length, 0);
    const b = head.subarray(0, len);
    if (len >= 26 && b.readUInt32BE(0) === 0x89504e47) {
      const colorType = b[25];
      return { width: b.readUInt32BE(16), height: b.readUInt32BE(20), channels: colorType === 0 || colorType === 4 ? 1 : 3, alpha: colorType === 4 || colorType === 6 };
    }
    if (len >= 4 && b[0] === 0xff && b[1] === 0xd8) {
      let off = 2;
      while (off + 9 < len) {
        if (b[off] !== 0xff) {
          off++;
          continue;
        }
        const marker = b[off + 1];
        if (marker === 0xff) {
          off++;
          continue;
        }
        const segLen = b.readUInt16BE(off + 2);
        const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
        if (isSof) {
          return { height: b.readUInt16BE(off + 5), width: b.readUInt16BE(off + 7), channels: b[off + 9] === 1 ? 1 : 3 };
        }
        off += 2 + segLen;
      }
    }
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}
