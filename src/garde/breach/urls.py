from django.urls import path

from garde.breach.views import file, notify, people

app_name = "breach"
C = "c/<uuid:crisis_id>/breaches/"
B = C + "<uuid:breach_id>/"

urlpatterns = [
    # Every breach of the hospital, whatever the crisis (art. 33(5)): no crisis in the URL.
    path("breaches/register/", file.hospital_register, name="hospital_register"),
    path("breaches/register/print/", file.hospital_register_pdf, name="hospital_register_pdf"),
    path(C, file.breaches, name="list"),
    path(C + "new/", file.breach_new, name="new"),
    path(C + "register/", file.register, name="register"),
    path(C + "register/print/", file.register_pdf, name="register_pdf"),
    path(B, file.breach_detail, name="detail"),
    path(B + "edit/", file.breach_edit, name="edit"),
    path(B + "import/", file.scan_import, name="import"),
    path(B + "import/<uuid:import_id>/", file.import_status, name="import_status"),
    path(B + "risk/", file.risk, name="risk"),
    path(B + "cnil/", notify.notification, name="notification"),
    path(B + "cnil/fill/", notify.notification_fill, name="notification_fill"),
    path(B + "cnil/freeze/", notify.notification_freeze, name="notification_freeze"),
    path(B + "cnil/text/", notify.notification_text, name="notification_text"),
    path(B + "cnil/<uuid:version_id>/text/", notify.version_text, name="version_text"),
    path(B + "cnil/<uuid:version_id>/print/", notify.version_pdf, name="version_pdf"),
    path(B + "public-notice/", notify.public_notice, name="public_notice"),
    path(B + "public-notice/print/", notify.public_notice_pdf, name="public_notice_pdf"),
    path(B + "public-notice/publish/", notify.public_notice_publish, name="public_notice_publish"),
    path(B + "public-notice/withdraw/", notify.public_notice_withdraw, name="public_notice_withdraw"),
    path(B + "persons/", people.person_list, name="persons"),
    path(B + "persons/reason/", people.reason, name="reason"),
    path(B + "persons/<uuid:person_id>/", people.person_detail, name="person"),
    path(B + "persons/<uuid:person_id>/letter/", people.person_letter, name="person_letter"),
    path(B + "letters/new/", people.letter_run_new, name="letter_run_new"),
    path(B + "letters/<uuid:run_id>/", people.letter_run, name="letter_run"),
    path(B + "letters/<uuid:run_id>/<str:kind>/", people.letter_download, name="letter_download"),
    path(B + "letters/sent/", people.letters_sent, name="letters_sent"),
    path(B + "patient-file/", people.patient_file, name="patient_file"),
]
