/**
 * Resumable, checksummed downloads. Bytes go to `<dest>.part`; an interrupted download resumes
 * from there with an HTTP Range request; the finished file is md5-checked, fsynced and renamed to
 * `dest`, so `dest` exists only when complete and correct. Progress goes to stderr.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as path from 'path';

export interface DownloadOptions {
  /** Expected md5 (hex). A mismatch deletes the partial file and throws. */
  md5?: string;
  /** No progress bar. */
  quiet?: boolean;
  /** Per-request inactivity timeout in ms (default 60 s). */
  timeoutMs?: number;
}

/** md5 of a file, streamed. */
export function md5File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = crypto.createHash('md5');
    fs.createReadStream(file)
      .on('data', (c) => h.update(c))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

function fmtMB(n: number): string {
  return (n / 1e6).toFixed(1);
}

class Progress {
  private last = 0;
  private readonly t0 = Date.now();
  constructor(private readonly label: string, private readonly quiet: boolean, private readonly startAt: number) {}
  update(done: number, total: number | undefined, force = false): void {
    if (this.quiet) return;
    const now = Date.now();
    if (!force && now - this.last < 250) return;
    this.last = now;
    const rate = (done - this.startAt) / Math.max(1e-3, (now - this.t0) / 1000);
    let bar = '';
    if (total) {
      const frac = Math.min(1, done / total);
      const w = 30;
      const fill = Math.round(frac * w);
      bar = `[${'#'.repeat(fill)}${'.'.repeat(w - fill)}] ${(100 * frac).toFixed(0).padStart(3)}% ${fmtMB(done)}/${fmtMB(total)} MB`;
    } else {
      bar = `${fmtMB(done)} MB`;
    }
    process.stderr.write(`\r[cwb] ${this.label} ${bar} ${fmtMB(rate)} MB/s   `);
  }
  end(): void {
    if (!this.quiet) process.stderr.write('\n');
  }
}

interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  stream: http.IncomingMessage;
}

function request(url: string, headers: Record<string, string>, timeoutMs: number, redirects = 0): Promise<Response> {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.get(url, { headers: { 'user-agent': 'contrastive-workbench', ...headers } }, (res) => {
      const status = res.statusCode ?? 0;
      if ([301, 302, 303, 307, 308].includes(status) && res.headers.location) {
        res.resume();
        if (redirects >= 10) return reject(new Error(`too many redirects from ${url}`));
        const next = new URL(res.headers.location, url).toString();
        request(next, headers, timeoutMs, redirects + 1).then(resolve, reject);
        return;
      }
      resolve({ status, headers: res.headers, stream: res });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no data from ${url} for ${timeoutMs / 1000} s`)));
    req.on('error', reject);
  });
}

/**
 * Download `url` to `dest` (see the module comment). Resolves once `dest` is complete and, when
 * `md5` is given, verified. An existing `dest` with the right md5 is kept as is.
 */
export async function downloadFile(url: string, dest: string, opts: DownloadOptions = {}): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  if (fs.existsSync(dest)) {
    if (!opts.md5 || (await md5File(dest)) === opts.md5) return;
    throw new Error(`${dest} exists but its md5 is not ${opts.md5}; delete it to download it again from ${url}`);
  }
  const part = `${dest}.part`;
  let have = fs.existsSync(part) ? fs.statSync(part).size : 0;
  const headers: Record<string, string> = have > 0 ? { range: `bytes=${have}-` } : {};
  const res = await request(url, headers, timeoutMs);
  let total: number | undefined;
  if (res.status === 206) {
    const m = /\/(\d+)$/.exec(String(res.headers['content-range'] ?? ''));
    total = m ? Number(m[1]) : undefined;
  } else if (res.status === 200) {
    have = 0; // the server ignored the range: start over
    total = res.headers['content-length'] ? Number(res.headers['content-length']) : undefined;
  } else if (res.status === 416 && have > 0) {
    res.stream.resume(); // the partial file is already complete
    total = have;
  } else {
    res.stream.resume();
    throw new Error(`GET ${url} answered HTTP ${res.status}`);
  }
  const progress = new Progress(path.basename(dest), opts.quiet ?? false, have);
  if (res.status !== 416) {
    const fd = fs.openSync(part, have > 0 ? 'a' : 'w');
    try {
      await new Promise<void>((resolve, reject) => {
        let done = have;
        res.stream.on('data', (chunk: Buffer) => {
          try {
            fs.writeSync(fd, chunk);
          } catch (e) {
            res.stream.destroy(e as Error);
            return;
          }
          done += chunk.length;
          progress.update(done, total);
        });
        res.stream.on('end', () => {
          progress.update(done, total, true);
          resolve();
        });
        res.stream.on('error', reject);
        res.stream.on('aborted', () => reject(new Error(`download of ${url} was cut off; run again to resume`)));
      });
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
      progress.end();
    }
  }
  const size = fs.statSync(part).size;
  if (total !== undefined && size !== total) {
    throw new Error(`download of ${url} stopped at ${size} of ${total} bytes (kept in ${part}); run again to resume`);
  }
  if (opts.md5) {
    const got = await md5File(part);
    if (got !== opts.md5) {
      fs.rmSync(part, { force: true });
      throw new Error(`checksum mismatch for ${url}: md5 ${got}, expected ${opts.md5}; the partial file was deleted, run again`);
    }
  }
  fs.renameSync(part, dest);
}

/** Try each mirror in turn; the error lists every failure. */
export async function downloadFromMirrors(urls: string[], dest: string, opts: DownloadOptions = {}): Promise<void> {
  const errors: string[] = [];
  for (const url of urls) {
    try {
      await downloadFile(url, dest, opts);
      return;
    } catch (e) {
      errors.push(`${url}: ${(e as Error).message}`);
    }
  }
  throw new Error(`could not download ${path.basename(dest)}: ${errors.join('; ')}`);
}
