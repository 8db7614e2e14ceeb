import * as echarts from 'echarts';
import { Resvg } from '@resvg/resvg-js';

/**
 * The CJK font comes with `npm install` (@expo-google-fonts/noto-sans-sc), so zh-CN charts render
 * the same on a bare container as on a desktop; system fonts are not loaded, so the output does
 * not depend on the host.
 */
const CJK_FONT_FILE = require.resolve('@expo-google-fonts/noto-sans-sc/400Regular/NotoSansSC_400Regular.ttf');

/**
 * Server-side charts for chat (the weekly digest): ECharts renders SVG without a DOM, resvg turns
 * it into PNG because chat platforms show PNG inline but not SVG. Chinese labels need a CJK font;
 * without one resvg leaves those glyphs blank, so the font is shipped (see CJK_FONT_FILE).
 */

export interface DailyVolume {
  day: string;
  created: number;
  resolved: number;
}

export interface VolumeChartLabels {
  title: string;
  created: string;
  resolved: string;
}

const FONT_FAMILY = 'Noto Sans SC, sans-serif';

export function renderVolumeChartSvg(days: readonly DailyVolume[], labels: VolumeChartLabels, size = { width: 800, height: 400 }): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: size.width, height: size.height });
  try {
    chart.setOption({
      animation: false,
      backgroundColor: '#ffffff',
      textStyle: { fontFamily: FONT_FAMILY },
      title: { text: labels.title, left: 'center', top: 8, textStyle: { fontSize: 16 } },
      legend: { data: [labels.created, labels.resolved], bottom: 8 },
      grid: { left: 48, right: 24, top: 48, bottom: 64 },
      xAxis: { type: 'category', data: days.map((d) => d.day.slice(5)) },
      yAxis: { type: 'value', minInterval: 1 },
      series: [
        { name: labels.created, type: 'bar', data: days.map((d) => d.created), itemStyle: { color: '#5470c6' }, label: { show: days.length <= 14, position: 'top' } },
        { name: labels.resolved, type: 'bar', data: days.map((d) => d.resolved), itemStyle: { color: '#91cc75' }, label: { show: days.length <= 14, position: 'top' } },
      ],
    });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

export function svgToPng(svg: string): Buffer {
  const resvg = new Resvg(svg, { background: '#ffffff', font: { loadSystemFonts: false, fontFiles: [CJK_FONT_FILE], defaultFontFamily: 'Noto Sans SC', sansSerifFamily: 'Noto Sans SC' } });
  return resvg.render().asPng();
}
