"""E-mail (EML): headers, body and attachments; attachments are handed back to be scanned as files
of their own (recursively, with the same limits as archive members)."""

from email import policy
from email.parser import BytesParser

from garde.scanner.extract.base import Source, extractor, text_records
from garde.scanner.extract.text import html_to_text
from garde.scanner.model import Child, Field, Record

_ADDRESS_HEADERS = ("From", "To", "Cc", "Bcc", "Reply-To", "Sender", "Delivered-To", "Return-Path")


def _is_eml(head: bytes) -> bool:
    start = head[:2048]
    return sum(start.count(h) for h in (b"\nFrom: ", b"\nTo: ", b"\nSubject: ", b"\nMessage-ID: ", b"Received: ", b"MIME-Version: ")) >= 3


@extractor("eml", extensions={".eml", ".mbox"}, mime_types={"message/rfc822"}, sniff=_is_eml)
def extract_eml(source: Source):
    message = BytesParser(policy=policy.default).parsebytes(source.read_bytes())
    header_fields = []
    for name in _ADDRESS_HEADERS:
        for value in message.get_all(name, []):
            header_fields.append(Field(None, f"{name}: {value}"))
    if message["Subject"]:
        header_fields.append(Field(None, f"Subject: {message['Subject']}"))
    if header_fields:
        yield Record("headers", header_fields)
    attachments = 0
    for part in message.walk():
        if part.is_multipart():
            continue
        content_type = part.get_content_type()
        filename = part.get_filename()
        if not filename and content_type in ("text/plain", "text/html") and part.get_content_disposition() != "attachment":
            try:
                body = part.get_content()
            except (LookupError, ValueError):
                body = part.get_payload(decode=True).decode("utf-8", errors="replace")
            if content_type == "text/html":
                body = html_to_text(body)
            yield from text_records(body, prefix="body ")
            continue
        payload = part.get_payload(decode=True)
        if payload:
            attachments += 1
            yield Child(filename or f"attachment-{attachments}{_extension_for(content_type)}", payload)


def _extension_for(content_type: str) -> str:
    return {"message/rfc822": ".eml", "text/csv": ".csv", "application/pdf": ".pdf", "text/plain": ".txt"}.get(content_type, "")
