from django import template

from garde.cell.access import can as request_can

register = template.Library()


@register.simple_tag(takes_context=True)
def can(context, capability: str) -> bool:
    """{% can "write_log" as may_write %}: whether the current member holds a capability."""
    return request_can(context["request"], capability)


@register.filter
def duration(seconds) -> str:
    """A signed number of seconds as “2 h 05 min” / “-0 h 12 min” for the regulatory clocks."""
    if seconds is None:
        return ""
    sign = "-" if seconds < 0 else ""
    seconds = abs(int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{sign}{days} j {hours:02d} h"
    return f"{sign}{hours} h {minutes:02d} min"


@register.filter
def person(user) -> str:
    """A user's full name, or user name, or a dash when nobody is set."""
    if user is None:
        return "—"
    return user.get_full_name() or user.get_username()
