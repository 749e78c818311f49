from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from webapp.people.models import User


@admin.register(User)
class ResonanceUserAdmin(UserAdmin):
    list_display = ("username", "role", "pseudonym", "crowd_platform", "crowd_id", "is_staff")
    list_filter = ("role", "crowd_platform", "is_staff")
    fieldsets = UserAdmin.fieldsets + (("Resonance", {"fields": ("role", "attributes", "crowd_platform", "crowd_id")}),)
