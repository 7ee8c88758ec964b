/**
 * Learning-rate schedules (ScheduleConfig in src/types.ts).
 *   t = epoch (perStep false, as main_moco.py adjust_learning_rate) or epoch + step / stepsPerEpoch.
 *   cosine:   lr = minLr + (baseLr - minLr) * 0.5 * (1 + cos(pi * t / epochs)), minLr = minLrFraction * baseLr
 *             (MoCo: minLrFraction 0; SupContrast: eta_min = lr * 0.1^3)
 *   step:     lr = baseLr * gamma ^ (number of milestones <= epoch), gamma default 0.1 (MoCo v1: 120, 160)
 *   constant: lr = baseLr
 * Warm-up (SupContrast warmup_learning_rate): for epoch < warmupEpochs, per step, linear from
 * warmupFrom * baseLr to the schedule's value at t = warmupEpochs.
 */
import type { ScheduleConfig } from '../types';

function scheduled(s: ScheduleConfig, baseLr: number, t: number, epochs: number): number {
  switch (s.name) {
    case 'constant':
      return baseLr;
    case 'step': {
      const gamma = s.gamma ?? 0.1;
      const passed = (s.milestones ?? []).filter((mi) => t >= mi).length;
      return baseLr * gamma ** passed;
    }
    case 'cosine': {
      const minLr = baseLr * (s.minLrFraction ?? 0);
      return minLr + (baseLr - minLr) * 0.5 * (1 + Math.cos((Math.PI * t) / epochs));
    }
    default:
      throw new Error(`schedule.name: unknown schedule '${(s as ScheduleConfig).name}' (cosine, step, constant)`);
  }
}

export function learningRateAt(schedule: ScheduleConfig, baseLr: number, epoch: number, step: number, stepsPerEpoch: number, epochs: number): number {
  if (!(epochs > 0)) throw new Error(`learningRateAt: epochs must be > 0, got ${epochs}`);
  if (!(stepsPerEpoch > 0)) throw new Error(`learningRateAt: stepsPerEpoch must be > 0, got ${stepsPerEpoch}`);
  const warm = schedule.warmupEpochs ?? 0;
  if (warm > 0 && epoch < warm) {
    const from = (schedule.warmupFrom ?? 0) * baseLr;
    const to = scheduled(schedule, baseLr, warm, epochs);
    const p = (epoch * stepsPerEpoch + step) / (warm * stepsPerEpoch);
    return from + p * (to - from);
  }
  if (schedule.name === 'step') return scheduled(schedule, baseLr, epoch, epochs);
  const t = schedule.perStep ? epoch + step / stepsPerEpoch : epoch;
  return scheduled(schedule, baseLr, t, epochs);
}
