"""Continuity: the staff status board per business service, the public status page, degraded-mode
procedures, printed notices and a Statuspage-compatible JSON API."""
