// One ECharts instance per panel, created once and fed with setOption for weeks; disposed only
// when the panel goes away. Options are built from reactive sources by the caller.
import { inject, onBeforeUnmount, onMounted, ref, shallowRef, watch, type Ref, type ShallowRef } from 'vue'
import { echarts, type EChartsType } from '../charts/echarts'
import { STAGE_SCALE } from './stage'

type Option = Parameters<EChartsType['setOption']>[0]

export function useChart(
  element: Ref<HTMLElement | null>,
  buildOption: () => Option | null,
  onReady?: (chart: EChartsType) => void,
): ShallowRef<EChartsType | null> {
  const chart = shallowRef<EChartsType | null>(null)
  const stageScale = inject(STAGE_SCALE, ref(1))

  onMounted(() => {
    if (!element.value) return
    // The stage is scaled with a CSS transform; draw at the final pixel density so a
    // 3840×2160 wall gets sharp lines rather than an upscaled 1080p canvas.
    const devicePixelRatio = Math.max(1, (window.devicePixelRatio || 1) * stageScale.value)
    const instance = echarts.init(element.value, undefined, { renderer: 'canvas', devicePixelRatio })
    chart.value = instance
    onReady?.(instance)
    const option = buildOption()
    if (option) instance.setOption(option)
  })

  watch(buildOption, (option) => {
    if (option && chart.value) chart.value.setOption(option)
  })

  onBeforeUnmount(() => {
    chart.value?.dispose()
    chart.value = null
  })

  return chart
}
