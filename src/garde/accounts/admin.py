from django.contrib import admin

from garde.accounts.models import AccessLog, SecondFactorPolicy


@admin.register(SecondFactorPolicy)
class SecondFactorPolicyAdmin(admin.ModelAdmin):
    list_display = ("role", "required")
    list_editable = ("required",)


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    list_display = ("at", "user", "action", "target", "reason")
    list_filter = ("action",)
    search_fields = ("target", "user__username")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
