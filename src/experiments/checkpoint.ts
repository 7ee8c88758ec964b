/**
 * Atomic checkpoints of a run: every tensor of `method.getState()` (one binary file plus a
 * manifest of name, dtype, shape and byte range), the method's host state, the runner's state
 * (epoch, loader seed, RNG state, elapsed time) as JSON.
 *
 * Writing: a fresh `checkpoint.tmp-*` folder is written and fsynced, the current `checkpoint`
 * is renamed to `checkpoint.prev`, the new folder is renamed to `checkpoint`, and only then is
 * the previous one removed. A process killed at any point leaves either `checkpoint` or
 * `checkpoint.prev` complete; `loadCheckpoint` takes the first complete one.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { MethodState } from '../types';
import { writeFileSynced } from '../util/fsx';

export const CHECKPOINT_VERSION = 1;

export interface TensorEntry {
  name: string;
  dtype: tf.DataType;
  shape: number[];
  offset: number;
  byteLength: number;
}

export interface CheckpointMeta {
  version: number;
  /** Number of completed epochs. */
  epoch: number;
  runId: string;
  /** Method host state (JSON). */
  host: Record<string, unknown>;
  /** Runner state: loader seed, RNG state, elapsed seconds, images seen, ... */
  runner: Record<string, unknown>;
  tensors: TensorEntry[];
  savedAt: string;
}

export interface Checkpoint {
  meta: CheckpointMeta;
  state: MethodState;
}

function fsyncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
  } catch {
    // Directory fsync is not supported everywhere; the rename order still keeps one complete copy.
  }
}

/** Save a checkpoint into `<runDir>/checkpoint` atomically. Does not dispose the state's tensors. */
export async function saveCheckpoint(
  runDir: string,
  state: MethodState,
  info: { epoch: number; runId: string; runner: Record<string, unknown> },
): Promise<void> {
  const entries: TensorEntry[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const name of Object.keys(state.tensors).sort()) {
    const t = state.tensors[name];
    const data = await t.data();
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    entries.push({ name, dtype: t.dtype, shape: t.shape.slice(), offset, byteLength: bytes.byteLength });
    chunks.push(bytes.slice()); // copy: the backend may reuse the buffer
    offset += bytes.byteLength;
  }
  const blob = new Uint8Array(offset);
  let o = 0;
  for (const c of chunks) {
    blob.set(c, o);
    o += c.byteLength;
  }
  const meta: CheckpointMeta = {
    version: CHECKPOINT_VERSION,
    epoch: info.epoch,
    runId: info.runId,
    host: state.host,
    runner: info.runner,
    tensors: entries,
    savedAt: new Date().toISOString(),
  };
  fs.mkdirSync(runDir, { recursive: true });
  const final = path.join(runDir, 'checkpoint');
  const prev = path.join(runDir, 'checkpoint.prev');
  const tmp = path.join(runDir, `checkpoint.tmp-${process.pid}-${Date.now()}`);
  fs.mkdirSync(tmp);
  writeFileSynced(path.join(tmp, 'tensors.bin'), blob);
  // state.json last: its presence marks a complete folder.
  writeFileSynced(path.join(tmp, 'state.json'), `${JSON.stringify(meta)}\n`);
  fsyncDir(tmp);
  if (fs.existsSync(final)) {
    fs.rmSync(prev, { recursive: true, force: true });
    fs.renameSync(final, prev);
  }
  fs.renameSync(tmp, final);
  fsyncDir(runDir);
  fs.rmSync(prev, { recursive: true, force: true });
}

function readCheckpointDir(dir: string): Checkpoint | undefined {
  const stateFile = path.join(dir, 'state.json');
  const binFile = path.join(dir, 'tensors.bin');
  if (!fs.existsSync(stateFile) || !fs.existsSync(binFile)) return undefined;
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as CheckpointMeta;
  } catch {
    return undefined;
  }
  const blob = fs.readFileSync(binFile);
  const total = meta.tensors.reduce((a, e) => Math.max(a, e.offset + e.byteLength), 0);
  if (blob.byteLength !== total) return undefined;
  const tensors: Record<string, tf.Tensor> = {};
  for (const e of meta.tensors) {
    const bytes = new Uint8Array(e.byteLength);
    bytes.set(blob.subarray(e.offset, e.offset + e.byteLength));
    let values: Float32Array | Int32Array | Uint8Array;
    if (e.dtype === 'float32') values = new Float32Array(bytes.buffer);
    else if (e.dtype === 'int32') values = new Int32Array(bytes.buffer);
    else if (e.dtype === 'bool') values = bytes;
    else throw new Error(`checkpoint ${dir}: tensor ${e.name} has unsupported dtype ${e.dtype}`);
    tensors[e.name] = tf.tensor(values, e.shape, e.dtype);
  }
  return { meta, state: { tensors, host: meta.host } };
}

/** The newest complete checkpoint of a run, or undefined. The caller owns the tensors. */
export function loadCheckpoint(runDir: string): Checkpoint | undefined {
  for (const name of ['checkpoint', 'checkpoint.prev']) {
    const ck = readCheckpointDir(path.join(runDir, name));
    if (ck) return ck;
  }
  return undefined;
}

/** Remove stray temporary folders of checkpoints interrupted mid-write. */
export function cleanCheckpointTemps(runDir: string): void {
  if (!fs.existsSync(runDir)) return;
  for (const f of fs.readdirSync(runDir)) {
    if (f.startsWith('checkpoint.tmp-')) fs.rmSync(path.join(runDir, f), { recursive: true, force: true });
  }
}

export function disposeState(state: MethodState): void {
  for (const t of Object.values(state.tensors)) t.dispose();
}
