"""PDF documents from Django templates, with WeasyPrint and no network access.

Print first: every list a person may need when screens are gone also exists as a PDF. The stylesheet is read
from the package and the URL fetcher refuses every protocol but data:, so a document never reaches outside.
"""

from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.template.loader import render_to_string

PRINT_CSS = "garde/print.css"


def render_pdf_bytes(template: str, context: dict, request=None) -> bytes:
    from weasyprint import CSS, HTML  # imported here: loading Pango costs time at every start-up
    from weasyprint.urls import URLFetcher

    # Only inline data: URIs; anything else (http, file) is refused, so a document never reaches out.
    fetcher = URLFetcher(allowed_protocols=["data"])
    html = render_to_string(template, context, request=request)
    with open(finders.find(PRINT_CSS), encoding="utf-8") as css_file:
        stylesheet = CSS(string=css_file.read(), url_fetcher=fetcher)
    return HTML(string=html, url_fetcher=fetcher).write_pdf(stylesheets=[stylesheet])


def pdf_response(template: str, context: dict, filename: str, request=None) -> HttpResponse:
    response = HttpResponse(render_pdf_bytes(template, context, request), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
