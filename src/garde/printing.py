"""PDF documents from Django templates, with WeasyPrint and no network access.

Print first: every list a person may need when screens are gone also exists as a PDF. The URL fetcher
refuses everything except the project's own stylesheet, so a document never reaches outside.
"""

from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.template.loader import render_to_string

PRINT_CSS = "garde/print.css"


def _no_network(url: str, *args, **kwargs):
    raise ValueError(f"Garde documents load nothing from outside ({url}).")


def render_pdf_bytes(template: str, context: dict, request=None) -> bytes:
    from weasyprint import CSS, HTML  # imported here: loading Pango costs time at every start-up

    html = render_to_string(template, context, request=request)
    stylesheet = CSS(filename=finders.find(PRINT_CSS), url_fetcher=_no_network)
    return HTML(string=html, url_fetcher=_no_network, base_url=None).write_pdf(stylesheets=[stylesheet])


def pdf_response(template: str, context: dict, filename: str, request=None) -> HttpResponse:
    response = HttpResponse(render_pdf_bytes(template, context, request), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
