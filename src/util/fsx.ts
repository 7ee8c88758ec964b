import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Replace `file` atomically: write a temporary file in the same folder, fsync it, then rename it
 * over the target. A reader sees either the old or the new content, never a partial file, and a
 * process killed mid-write leaves at most a stray `*.tmp-*` file that the next write ignores.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}-${Math.floor(Math.random() * 1e9)}`;
  writeFileSynced(tmp, data);
  fs.renameSync(tmp, file);
}

/** Write `file` and fsync it before returning (the building block of the atomic writes). */
export function writeFileSynced(file: string, data: string | Uint8Array): void {
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Write JSON atomically (pretty-printed, trailing newline). */
export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Read and parse a JSON file; the error names the file when it is missing or malformed. */
export function readJson<T = unknown>(file: string): T {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new Error(`${file} is not valid JSON: ${(e as Error).message}`);
  }
}

/** Append one line to a file (JSON lines logs), creating folders as needed. */
export function appendLine(file: string, line: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.appendFileSync(file, line.endsWith('\n') ? line : `${line}\n`);
}
