// A number that glides to its new value instead of jumping (the KPI tiles).
import { onBeforeUnmount, ref, watch, type Ref } from 'vue'

export function useTweened(source: () => number, durationMs = 900): Ref<number> {
  const shown = ref(source())
  let frame = 0

  const cancel = (): void => {
    if (frame) cancelAnimationFrame(frame)
    frame = 0
  }

  watch(source, (target) => {
    cancel()
    const from = shown.value
    if (from === target || document.hidden) {
      shown.value = target
      return
    }
    const start = performance.now()
    const step = (now: number): void => {
      const t = Math.min(1, (now - start) / durationMs)
      const eased = 1 - (1 - t) ** 3
      shown.value = Math.round(from + (target - from) * eased)
      frame = t < 1 ? requestAnimationFrame(step) : 0
    }
    frame = requestAnimationFrame(step)
  })

  onBeforeUnmount(cancel)
  return shown
}
