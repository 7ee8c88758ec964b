/** Builds a Network from the EncoderConfig contract (src/types.ts) plus a head choice. */
import type { EncoderConfig } from '../types';
import type { Rng } from '../util/rng';
import { convnetBackbone } from './convnet';
import { linearHead, mlpHead } from './heads';
import { Network, type BackboneFn, type HeadFn } from './network';
import { resnetBackbone } from './resnet';

export type HeadConfig = { kind: 'linear'; dim: number } | { kind: 'mlp'; dim: number; hidden?: number } | { kind: 'none' };

export function backboneFor(cfg: EncoderConfig): BackboneFn {
  const width = cfg.width ?? 1;
  if (!(width > 0)) throw new Error(`encoder.width must be > 0, got ${cfg.width}`);
  switch (cfg.arch) {
    case 'convnet':
      return convnetBackbone(width);
    case 'resnet18':
      return resnetBackbone(18, cfg.stem ?? 'cifar', width);
    case 'resnet34':
      return resnetBackbone(34, cfg.stem ?? 'cifar', width);
    case 'resnet50':
      return resnetBackbone(50, cfg.stem ?? 'cifar', width);
    default:
      throw new Error(`encoder.arch: unknown architecture '${(cfg as EncoderConfig).arch}' (convnet, resnet18, resnet34, resnet50)`);
  }
}

export function headFor(cfg: HeadConfig): HeadFn | null {
  switch (cfg.kind) {
    case 'linear':
      return linearHead(cfg.dim);
    case 'mlp':
      return mlpHead(cfg.dim, cfg.hidden);
    case 'none':
      return null;
  }
}

/**
 * An encoder network: backbone of `cfg` on images [H, W, channels], then `head`.
 * Initial weights are drawn from `rng` (torchvision init).
 */
export function createEncoder(cfg: EncoderConfig, input: { imageSize: [number, number]; channels: number }, head: HeadConfig, rng: Rng): Network {
  const [h, w] = input.imageSize;
  if (!(h > 0 && w > 0 && input.channels > 0)) {
    throw new Error(`createEncoder: bad input imageSize ${JSON.stringify(input.imageSize)} / channels ${input.channels}`);
  }
  const desc = `${cfg.arch}${cfg.arch === 'convnet' ? '' : `/${cfg.stem ?? 'cifar'}`} w${cfg.width ?? 1} head=${head.kind}${'dim' in head ? head.dim : ''}`;
  return Network.build({ description: desc, inputShape: [h, w, input.channels], backbone: backboneFor(cfg), head: headFor(head) }, rng);
}
