"""Django admin's second factor, under /admin/otp/ (open before the factor is verified)."""

from django.urls import path

from merchants.portal.views import staff

app_name = "staff_otp"
urlpatterns = [
    path("setup/", staff.enrol, name="enrol"),
    path("verify/", staff.verify, name="verify"),
    path("reverify/", staff.reverify, name="reverify"),
    path("email/", staff.email_code, name="email_code"),
    path("backup-codes/", staff.backup_codes, name="backup_codes"),
    path("backup-codes/new/", staff.backup_codes_new, name="backup_codes_new"),
    path("backup-codes/download/", staff.backup_codes_file, name="backup_codes_download"),
]
