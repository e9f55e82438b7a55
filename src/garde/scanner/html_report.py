"""`report.html`: one self-contained page for the DPO, readable offline and printable.

Inline CSS, charts drawn here as inline SVG (categories, persons, folders), no JavaScript, no external
URL. It holds counts and folder names only, never a personal value (the same as summary.json)."""

from html import escape

from garde.scanner.link import linkage_warning
from garde.scanner.model import CATEGORIES

CATEGORY_LABELS = {
    "identity": "Identity (names, birth dates, patient numbers)",
    "national_identifier": "National identifier (NIR/INS)",
    "contact": "Contact (addresses, phones, e-mails)",
    "health": "Health data",
    "financial": "Financial (IBAN, payment cards)",
    "credentials": "Credentials (passwords, secrets)",
}
COLORS = {
    "identity": "#3b6ea5",
    "national_identifier": "#b8322a",
    "contact": "#4f8a3c",
    "health": "#8a3c7d",
    "financial": "#c07a12",
    "credentials": "#555555",
}
MAX_FOLDERS = 15
MAX_ERRORS = 200

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1d;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.4}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc;padding-bottom:.2rem}
.meta{color:#555;font-size:.9rem}.key{display:flex;flex-wrap:wrap;gap:1rem;margin:1rem 0}
.key div{border:1px solid #ccc;border-radius:.3rem;padding:.6rem 1rem;min-width:10rem}.key b{display:block;font-size:1.6rem}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.5rem 0}th,td{border-bottom:1px solid #ddd;padding:.25rem .5rem;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}svg{max-width:100%;height:auto}svg text{font-family:inherit;font-size:12px}
.note{font-size:.85rem;color:#444}.warn{color:#8a1f1f}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}table,svg,.key{break-inside:avoid}}
"""


def _number(value: int | float) -> str:
    return f"{value:,}".replace(",", "\u202f")


def bar_chart(rows: list[tuple[str, int, str]], title: str, label_width: int = 300, width: int = 720) -> str:
    """Horizontal bars: (label, value, colour). Server-generated SVG, no script."""
    bar_height, gap = 20, 8
    height = len(rows) * (bar_height + gap) + gap
    top = max((value for _, value, _ in rows), default=0) or 1
    room = width - label_width - 90
    parts = [
        f'<svg role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}"><title>{escape(title)}</title>'
    ]
    for index, (label, value, color) in enumerate(rows):
        y = gap + index * (bar_height + gap)
        length = round(room * value / top) if value else 0
        short = label if len(label) <= 48 else "…" + label[-47:]
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 14}" text-anchor="end">{escape(short)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{max(length, 1)}" height="{bar_height}" fill="{color}"/>'
            f'<text x="{label_width + length + 6}" y="{y + 14}">{_number(value)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _table(headers: list[str], rows: list[list], numeric_from: int = 1) -> str:
    head = "".join(f'<th class="n">{escape(h)}</th>' if i >= numeric_from else f"<th>{escape(h)}</th>" for i, h in enumerate(headers))
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{_number(c) if isinstance(c, int) else escape(str(c))}</td>' if i >= numeric_from else f"<td>{escape(str(c))}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render(summary: dict, run: dict, errors: list[dict], all_errors: int) -> str:
    """`errors`: the first MAX_ERRORS issues of the scan, out of `all_errors`."""
    persons, files, categories = summary["persons"], summary["files"], summary["categories"]
    category_rows = [(CATEGORY_LABELS[c], categories[c]["persons"], COLORS[c]) for c in CATEGORIES]
    person_rows = [
        ("Lower bound (confident and weaker links)", persons["lower"], "#7a9cc6"),
        ("Best estimate", persons["best"], "#1f4e79"),
        ("Upper bound (records not linked)", persons["upper"], "#7a9cc6"),
    ]
    folders = sorted(summary["folders"].items(), key=lambda item: (-item[1].get("findings", 0), item[0]))[:MAX_FOLDERS]
    folder_rows = [(name, counts.get("findings", 0), "#3b6ea5") for name, counts in folders]
    exposed = [c for c in CATEGORIES if categories[c]["findings"]]
    reveal = run["settings"].get("reveal")
    html = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Leak scan report</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>Leak scan report</h1>",
        f'<p class="meta">Scan started {escape(run["started"])}, took {run["duration_s"]:.0f} s. '
        f"Inputs: {escape(', '.join(run['inputs']))}. Produced by <code>garde scan</code> (format {summary['format_version']}).</p>",
        '<div class="key">',
        f"<div>Persons concerned<b>{_number(persons['best'])}</b>range {_number(persons['lower'])} to {_number(persons['upper'])}</div>",
        f"<div>Categories exposed<b>{len(exposed)}</b>of {len(CATEGORIES)}</div>",
        f"<div>Files<b>{_number(files['seen'])}</b>{_number(files['duplicates'])} duplicates</div>",
        f"<div>Not read<b>{_number(files['errors'] + files['encrypted'])}</b>errors and encrypted</div>",
        "</div>",
        "<h2>Persons concerned per category</h2>",
        bar_chart(category_rows, "Persons concerned per category"),
        _table(
            ["Category", "Persons", "Findings", "Distinct findings"],
            [[CATEGORY_LABELS[c], categories[c]["persons"], categories[c]["findings"], categories[c]["distinct_findings"]] for c in CATEGORIES],
        ),
        "<h2>How many persons</h2>",
        bar_chart(person_rows, "Number of persons: lower bound, best estimate, upper bound"),
        '<p class="note">Records of one person are linked on the NIR/INS or the patient number (IPP), then on the same '
        "name and birth date (best estimate). The upper bound counts every record apart; the lower bound also joins "
        "records sharing an e-mail, phone, bank account or full name, which can join different people.</p>",
        *([f'<p class="warn">{escape(warning)}</p>'] if (warning := linkage_warning(run.get("linkage", {}))) else []),
        f"<h2>Where: folders with the most findings (top {MAX_FOLDERS})</h2>",
        bar_chart(folder_rows, "Findings per folder") if folder_rows else "<p>No folder.</p>",
        "<h2>File types</h2>",
        _table(["Type", "Files", "Findings"], [[name, c.get("files", 0), c.get("findings", 0)] for name, c in summary["file_types"].items()]),
        "<h2>Files</h2>",
        _table(["", "Count"], [[label.replace("_", " "), value] for label, value in files.items()]),
    ]
    if files.get("pdf_pages_needing_ocr"):
        html.append(
            f'<p class="warn">{_number(files["pdf_pages_needing_ocr"])} scanned PDF pages were not read (no OCR installed): '
            "their personal data is not counted.</p>"
        )
    if files.get("images_needing_ocr"):
        html.append(
            f'<p class="warn">{_number(files["images_needing_ocr"])} images (scans, photos) were not read (no OCR '
            "installed): their personal data is not counted.</p>"
        )
    html.append(f"<h2>Files not read or read with a caveat ({_number(all_errors)})</h2>")
    if errors:
        shown = errors[:MAX_ERRORS]
        html.append(_table(["File", "Kind", "Reason"], [[e["path"], e["kind"], e["reason"]] for e in shown], numeric_from=3))
        if all_errors > len(shown):
            html.append(f'<p class="note">The first {len(shown)} are shown; manifest.json lists all {_number(all_errors)}.</p>')
    else:
        html.append("<p>None.</p>")
    html.append(
        '<p class="note">This page holds counts and folder names only. Detailed findings (masked values) are in '
        f"findings.parquet; clear values were {'<b>stored</b> (--reveal)' if reveal else 'not stored'}. "
        "Format: docs/scan-format.md.</p></body></html>"
    )
    return "\n".join(html) + "\n"
