"""The Django side of the IS map: stored map versions, scenarios, their application to a crisis, and
restoration plans. The computing is done by the pure engine, garde.impact."""
