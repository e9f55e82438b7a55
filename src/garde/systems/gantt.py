"""The restoration plan as a Gantt chart: standalone SVG drawn on the server, printable on A4 landscape.

No script and no style attribute (the pages' CSP forbids inline styles): colours are presentation
attributes. Each task with work is a bar on its own row, labelled with the person who does it; a
business service coming back is a diamond on the row of its milestone.
"""

from html import escape

from django.utils.translation import gettext as _

ROW, LABEL_W, CHART_W, TOP, BOTTOM = 22, 300, 720, 34, 16
FILL = {"planned": "#9cc3e6", "done": "#9ad3a6", "late": "#f2b36b"}
MILESTONE = "#0b4f8a"


def _tick_step(total_minutes: int) -> int:
    for step in (15, 30, 60, 120, 240, 480, 720, 1440, 2880):
        if total_minutes / step <= 14:
            return step
    return 10080


def to_svg(tasks, makespan: int) -> str:
    """``tasks``: PlanTask rows (or objects with name, minutes, start, end, status, worker, criticality)."""
    rows = [t for t in tasks if t.minutes or t.criticality]
    total = max(makespan, 1)
    scale = CHART_W / total
    height = TOP + ROW * len(rows) + BOTTOM
    width = LABEL_W + CHART_W + 20
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
           f'font-family="sans-serif" font-size="11" role="img" aria-label="{escape(_("Restoration plan"))}">']
    step = _tick_step(total)
    for minute in range(0, total + 1, step):
        x = LABEL_W + minute * scale
        out.append(f'<line x1="{x:.1f}" y1="{TOP - 6}" x2="{x:.1f}" y2="{height - BOTTOM}" stroke="#ddd"/>')
        label = f"{minute // 60} h" if minute % 60 == 0 else f"{minute // 60} h {minute % 60:02d}"
        out.append(f'<text x="{x:.1f}" y="{TOP - 10}" font-size="10" text-anchor="middle">{escape(label)}</text>')
    for index, task in enumerate(rows):
        y = TOP + index * ROW
        if index % 2:
            out.append(f'<rect x="0" y="{y}" width="{width}" height="{ROW}" fill="#f4f6f8"/>')
        name = task.name if len(task.name) <= 44 else task.name[:43] + "…"
        out.append(f'<text x="4" y="{y + 15}">{escape(name)}</text>')
        x = LABEL_W + task.start * scale
        if task.minutes:
            w = max((task.end - task.start) * scale, 2)
            out.append(f'<g><title>{escape(f"{task.name}: +{task.start} → +{task.end} min, {task.worker}")}</title>'
                       f'<rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{ROW - 8}" rx="3" '
                       f'fill="{FILL.get(task.status, FILL["planned"])}" stroke="#456"/></g>')
            out.append(f'<text x="{x + w + 4:.1f}" y="{y + 15}" font-size="9" fill="#333">{escape(task.worker)}</text>')
        else:
            cx, cy, r = LABEL_W + task.end * scale, y + ROW / 2, 6
            out.append(f'<g><title>{escape(f"{task.name}: +{task.end} min")}</title>'
                       f'<path d="M {cx:.1f} {cy - r:.1f} L {cx + r:.1f} {cy:.1f} L {cx:.1f} {cy + r:.1f} '
                       f'L {cx - r:.1f} {cy:.1f} z" fill="{MILESTONE}"/></g>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
