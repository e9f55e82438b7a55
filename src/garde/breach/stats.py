"""Categories and counts of a breach file, by perimeter, and the bars of the server-drawn charts."""

from dataclasses import dataclass

from django.db.models import Count, Q

from garde.breach.models import CATEGORIES, CATEGORY_LABELS, Breach, LeakedFile, LeakedRecord, Person

# The categories that, when exposed, make a high risk to persons likely (DESIGN: health data, NIR,
# banking data and credentials raise the risk).
AGGRAVATING = ("health", "national_identifier", "financial", "credentials")


@dataclass(frozen=True)
class Column:
    name: str
    persons: int
    records: int
    files: int
    persons_by_category: dict[str, int]
    records_by_category: dict[str, int]


def _by_category(queryset) -> tuple[int, dict[str, int]]:
    counts = queryset.aggregate(total=Count("pk", distinct=True),
                                **{c: Count("pk", filter=Q(**{c: True}), distinct=True) for c in CATEGORIES})
    return counts.pop("total"), counts


def _column(name: str, persons, records, files) -> Column:
    person_total, person_counts = _by_category(persons)
    record_total, record_counts = _by_category(records)
    return Column(name, person_total, record_total, files.count(), person_counts, record_counts)


def columns(breach: Breach) -> list[Column]:
    """One column per perimeter, then the whole file (a person seen in two perimeters counts in each,
    once in the total). Removed persons (not persons, or out of scope) are not counted."""
    persons = Person.objects.filter(breach=breach).exclude(status=Person.Status.REMOVED)
    records = LeakedRecord.objects.filter(breach=breach)
    files = LeakedFile.objects.filter(breach=breach)
    result = [
        _column(perimeter.name, persons.filter(sightings__perimeter=perimeter),
                records.filter(perimeter=perimeter), files.filter(perimeter=perimeter))
        for perimeter in breach.perimeters.filter(imports__status="done").distinct()
    ]
    result.append(_column("total", persons, records, files))
    return result


def total(breach: Breach) -> Column:
    persons = Person.objects.filter(breach=breach).exclude(status=Person.Status.REMOVED)
    return _column("total", persons, LeakedRecord.objects.filter(breach=breach), LeakedFile.objects.filter(breach=breach))


def table(cols: list[Column]) -> list[dict]:
    return [
        {"category": category, "label": CATEGORY_LABELS[category],
         "persons": [c.persons_by_category[category] for c in cols],
         "records": [c.records_by_category[category] for c in cols],
         "aggravating": category in AGGRAVATING}
        for category in CATEGORIES
    ]


BAR_HEIGHT = 22
LABEL_WIDTH = 220
BAR_WIDTH = 300


def chart(column: Column) -> dict:
    """Geometry of a horizontal bar chart of persons per category, drawn as SVG by the template."""
    peak = max(column.persons_by_category.values(), default=0) or 1
    bars = []
    for row, category in enumerate(CATEGORIES):
        value = column.persons_by_category[category]
        bars.append({
            "label": CATEGORY_LABELS[category], "value": value, "y": row * BAR_HEIGHT,
            "text_y": row * BAR_HEIGHT + 15, "x": LABEL_WIDTH,
            "width": round(BAR_WIDTH * value / peak), "value_x": LABEL_WIDTH + round(BAR_WIDTH * value / peak) + 6,
            "aggravating": category in AGGRAVATING,
        })
    return {"name": column.name, "bars": bars, "height": len(CATEGORIES) * BAR_HEIGHT,
            "width": LABEL_WIDTH + BAR_WIDTH + 60, "label_x": LABEL_WIDTH - 6}


def suggested_risk(column: Column) -> tuple[str, list[str]]:
    """The risk level the categories point to, and why; the DPO decides, this only guides."""
    exposed = [c for c in AGGRAVATING if column.persons_by_category[c]]
    if exposed:
        return "high", exposed
    if column.persons:
        return "risk", []
    return "unlikely", []
