import { svgToPng } from '../../src/reports/chart';

/** A chart title rendered with the shipped CJK font: different Chinese words give different
 * pixels. Without a CJK font resvg draws every Chinese glyph the same (blank), so the two PNGs
 * would be byte-identical. */
function titlePng(text: string): Buffer {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="240" height="60"><text x="10" y="40" font-size="28" font-family="Noto Sans SC, sans-serif">${text}</text></svg>`;
  return svgToPng(svg);
}

describe('digest chart font', () => {
  it('renders Chinese glyphs from the font shipped with npm install', () => {
    const a = titlePng('本周工单量');
    const b = titlePng('已解决工单');
    expect(a.equals(b)).toBe(false);
    // and not just noise: a blank rendering compresses to a few hundred bytes
    const blank = titlePng('');
    expect(a.length).toBeGreaterThan(blank.length + 500);
  });
});
