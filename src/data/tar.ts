/**
 * A small tar reader (ustar, GNU long names, pax path headers) for the dataset archives, with
 * gzip handled by zlib. Extraction is atomic: files go to a temporary folder next to the target,
 * which is renamed into place only when every entry was written.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';

export interface TarEntry {
  name: string;
  type: 'file' | 'dir' | 'other';
  data: Uint8Array;
}

function cstr(b: Uint8Array, off: number, len: number): string {
  let end = off;
  while (end < off + len && b[end] !== 0) end++;
  return Buffer.from(b.subarray(off, end)).toString('utf8');
}

function octal(b: Uint8Array, off: number, len: number, file: string): number {
  const s = cstr(b, off, len).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new Error(`${file}: corrupt tar header (size field '${s}' is not octal)`);
  return parseInt(s, 8);
}

/** Parse an uncompressed tar image. `file` names the archive in errors. */
export function parseTar(buf: Uint8Array, file: string): TarEntry[] {
  const out: TarEntry[] = [];
  let off = 0;
  let longName: string | undefined;
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512);
    if (h.every((x) => x === 0)) break; // end-of-archive blocks
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
    const stored = octal(h, 148, 8, file);
    if (stored !== sum) throw new Error(`${file}: corrupt tar header at byte ${off} (checksum ${stored}, computed ${sum})`);
    const size = octal(h, 124, 12, file);
    const flag = String.fromCharCode(h[156] || 48);
    const magic = cstr(h, 257, 6);
    const prefix = magic.startsWith('ustar') ? cstr(h, 345, 155) : '';
    let name = cstr(h, 0, 100);
    if (prefix) name = `${prefix}/${name}`;
    const start = off + 512;
    if (start + size > buf.length) throw new Error(`${file}: truncated tar archive (entry ${name} needs ${size} bytes past byte ${start})`);
    const data = buf.subarray(start, start + size);
    off = start + Math.ceil(size / 512) * 512;
    if (flag === 'L') {
      longName = cstr(data, 0, data.length);
      continue;
    }
    if (flag === 'x') {
      const m = /\d+ path=([^\n]*)\n/.exec(Buffer.from(data).toString('utf8'));
      if (m) longName = m[1];
      continue;
    }
    if (flag === 'g') continue;
    if (longName !== undefined) {
      name = longName;
      longName = undefined;
    }
    out.push({ name, type: flag === '0' || flag === '7' ? 'file' : flag === '5' ? 'dir' : 'other', data });
  }
  return out;
}

/** Read a .tar or .tar.gz file (gzip detected by its magic bytes). */
export function readTar(file: string): TarEntry[] {
  let buf: Uint8Array = fs.readFileSync(file);
  if (buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = zlib.gunzipSync(buf);
    } catch (e) {
      throw new Error(`${file}: gzip data is corrupt or truncated (${(e as Error).message})`);
    }
  }
  return parseTar(buf, file);
}

/**
 * Extract `archive` into `destRoot`. The archive's top folder `top` (e.g. 'cifar-10-batches-bin')
 * appears in `destRoot` only once complete. Entries outside `top` or with unsafe paths are refused.
 */
export function extractTar(archive: string, destRoot: string, top: string): string {
  const entries = readTar(archive);
  const tmp = path.join(destRoot, `.extract-${top}-${process.pid}-${Date.now()}`);
  const final = path.join(destRoot, top);
  fs.mkdirSync(tmp, { recursive: true });
  try {
    for (const e of entries) {
      const rel = path.posix.normalize(e.name);
      if (rel.startsWith('..') || path.isAbsolute(rel)) throw new Error(`${archive}: refusing unsafe path '${e.name}'`);
      const parts = rel.split('/').filter(Boolean);
      if (parts[0] !== top) throw new Error(`${archive}: entry '${e.name}' is outside the expected folder '${top}/'`);
      const target = path.join(tmp, ...parts.slice(1));
      if (e.type === 'dir') fs.mkdirSync(target, { recursive: true });
      else if (e.type === 'file') {
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, e.data);
      }
    }
    if (fs.existsSync(final)) fs.rmSync(final, { recursive: true, force: true });
    fs.renameSync(tmp, final);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return final;
}
