import type { InjectionKey, Ref } from 'vue'

/** The wall stage's current CSS scale (1 at 1920×1080, 2 at 3840×2160). */
export const STAGE_SCALE: InjectionKey<Readonly<Ref<number>>> = Symbol('stageScale')

export const STAGE_WIDTH = 1920
export const STAGE_HEIGHT = 1080

/** Fit the fixed stage inside the window, letterboxed, centred. */
export function fitStage(windowWidth: number, windowHeight: number): { scale: number; left: number; top: number } {
  const scale = Math.min(windowWidth / STAGE_WIDTH, windowHeight / STAGE_HEIGHT)
  return {
    scale,
    left: (windowWidth - STAGE_WIDTH * scale) / 2,
    top: (windowHeight - STAGE_HEIGHT * scale) / 2,
  }
}
