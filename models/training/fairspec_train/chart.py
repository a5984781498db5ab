"""A self-contained SVG chart of the fairness report (no plotting library needed in CI)."""
from __future__ import annotations

from xml.sax.saxutils import escape

COLORS = {"drafter-baseline": "#8c8c8c", "routed": "#000000", "drafter-scdf": "#d62728", "drafter-scdf-kl": "#9467bd", "drafter-balanced": "#1f77b4", "drafter-cont": "#2ca02c"}


def _panel(summary: dict, metric: str, title: str, y0: float, top: int, width: int, height: int, ref: float | None) -> list[str]:
    drafters = [d for d in COLORS if d in summary] + [d for d in summary if d not in COLORS]
    langs = sorted(summary[drafters[0]]["languages"], key=lambda l: summary[drafters[0]]["languages"][l][metric])
    values = [summary[d]["languages"][l][metric] for d in drafters for l in langs]
    y1 = max(values) * 1.05
    left, plot_w, plot_h = 60, width - 80, height - 90
    scale = lambda v: top + 30 + plot_h * (1 - (v - y0) / (y1 - y0))
    group = plot_w / len(langs)
    bar = group * 0.8 / len(drafters)
    out = [f'<text x="{left}" y="{top + 18}" font-size="15" font-weight="bold">{escape(title)}</text>']
    for k in range(6):
        v = y0 + (y1 - y0) * k / 5
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{scale(v):.1f}" y2="{scale(v):.1f}" stroke="#eee"/>')
        out.append(f'<text x="{left - 6}" y="{scale(v) + 4:.1f}" font-size="10" text-anchor="end">{v:.2f}</text>')
    for i, lang in enumerate(langs):
        for j, d in enumerate(drafters):
            v = summary[d]["languages"][lang][metric]
            x = left + i * group + group * 0.1 + j * bar
            out.append(f'<rect x="{x:.1f}" y="{scale(v):.1f}" width="{bar:.1f}" height="{scale(y0) - scale(v):.1f}" '
                       f'fill="{COLORS.get(d, "#999")}"><title>{escape(lang)} {escape(d)}: {v:.3f}</title></rect>')
        cx = left + i * group + group / 2
        out.append(f'<text x="{cx:.1f}" y="{scale(y0) + 12:.1f}" font-size="10" text-anchor="end" '
                   f'transform="rotate(-60 {cx:.1f} {scale(y0) + 12:.1f})">{escape(lang)}</text>')
    if ref is not None and y0 < ref < y1:
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{scale(ref):.1f}" y2="{scale(ref):.1f}" stroke="#000" stroke-dasharray="4 3"/>')
    return out


def render(summary: dict, title: str) -> str:
    width, panel_h = 1200, 330
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{2 * panel_h + 80}" font-family="sans-serif">',
             '<rect width="100%" height="100%" fill="white"/>',
             f'<text x="20" y="24" font-size="18" font-weight="bold">{escape(title)}</text>']
    legend_x = 20
    for d in summary:
        s = summary[d]
        parts.append(f'<rect x="{legend_x}" y="36" width="12" height="12" fill="{COLORS.get(d, "#999")}"/>')
        label = f'{d}: mean α {s["mean_alpha"]:.3f}, worst {s["worst_alpha"]:.3f}, U {s["U"]:.4f}'
        parts.append(f'<text x="{legend_x + 16}" y="47" font-size="11">{escape(label)}</text>')
        legend_x += 290
    parts += _panel(summary, "alpha", "Acceptance rate α per language (exact, Σ min(p, q))", 0.0, 60, width, panel_h, None)
    parts += _panel(summary, "predicted_speedup", "Predicted speed-up at γ* (dashed: plain decoding)", 0.0, 60 + panel_h, width, panel_h, 1.0)
    parts.append("</svg>")
    return "\n".join(parts)
