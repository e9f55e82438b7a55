"""Administration of the reference data the hospital edits: checklist, regulatory rules, directory.

Crisis content (log, decisions, reports) is not editable here: it changes only through the cell's pages,
which write the running log.
"""

from django.contrib import admin

from garde.cell.models import ActionTemplate, Crisis, Membership, ObligationRule, Stakeholder


@admin.register(ActionTemplate)
class ActionTemplateAdmin(admin.ModelAdmin):
    list_display = ("order", "title", "due_after_minutes", "priority", "active")
    list_editable = ("active",)
    ordering = ("order",)


@admin.register(ObligationRule)
class ObligationRuleAdmin(admin.ModelAdmin):
    list_display = ("order", "title", "authority", "deadline_hours", "applies_when", "default_owner_role")
    ordering = ("order",)


@admin.register(Stakeholder)
class StakeholderAdmin(admin.ModelAdmin):
    list_display = ("kind", "organisation", "contact_name", "phone", "backup_channel")
    list_filter = ("kind",)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1


@admin.register(Crisis)
class CrisisAdmin(admin.ModelAdmin):
    """Crises are opened from the cell's pages; here an administrator only fixes memberships."""

    list_display = ("title", "t0", "phase", "kind")
    fields = ("title", "kind", "t0", "phase")
    readonly_fields = ("title", "kind", "t0", "phase")
    inlines = [MembershipInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
