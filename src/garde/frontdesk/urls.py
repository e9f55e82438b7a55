from django.urls import path

from garde.frontdesk.views import appointments, documents, export, home, patients, payments

P = "c/<uuid:crisis_id>/frontdesk/"

urlpatterns = [
    path(P, home.index, name="frontdesk"),
    path(P + "setup/", home.setup, name="frontdesk_setup"),
    path(P + "patients/", patients.patients, name="frontdesk_patients"),
    path(P + "patients/new/", patients.patient_new, name="frontdesk_patient_new"),
    path(P + "patients/duplicates/", patients.duplicates, name="frontdesk_duplicates"),
    path(P + "patients/<uuid:patient_id>/", patients.patient, name="frontdesk_patient"),
    path(P + "patients/<uuid:patient_id>/edit/", patients.patient_edit, name="frontdesk_patient_edit"),
    path(P + "patients/<uuid:patient_id>/merge/", patients.patient_merge, name="frontdesk_patient_merge"),
    path(P + "appointments/", appointments.appointments, name="frontdesk_appointments"),
    path(P + "appointments/print/", appointments.appointments_pdf, name="frontdesk_appointments_pdf"),
    path(P + "appointments/new/", appointments.appointment_new, name="frontdesk_appointment_new"),
    path(P + "appointments/<uuid:appointment_id>/", appointments.appointment, name="frontdesk_appointment"),
    path(P + "appointments/<uuid:appointment_id>/cancel/", appointments.appointment_cancel,
         name="frontdesk_appointment_cancel"),
    path(P + "appointments/<uuid:appointment_id>/move/", appointments.appointment_move,
         name="frontdesk_appointment_move"),
    path(P + "documents/", documents.documents, name="frontdesk_documents"),
    path(P + "documents/new/", documents.document_new, name="frontdesk_document_new"),
    path(P + "documents/<uuid:document_id>/scan/", documents.document_scan, name="frontdesk_document_scan"),
    path(P + "payments/", payments.payments, name="frontdesk_payments"),
    path(P + "payments/new/", payments.payment_new, name="frontdesk_payment_new"),
    path(P + "payments/<uuid:payment_id>/receipt.pdf", payments.receipt_pdf, name="frontdesk_receipt_pdf"),
    path(P + "payments/<uuid:payment_id>/reverse/", payments.payment_reverse, name="frontdesk_payment_reverse"),
    path(P + "cash-desks/<uuid:desk_id>/close/", payments.closing, name="frontdesk_closing"),
    path(P + "export/", export.export_page, name="frontdesk_export"),
    path(P + "export/new/", export.export_new, name="frontdesk_export_new"),
    path(P + "export/<uuid:batch_id>/download/", export.export_download, name="frontdesk_export_download"),
    path(P + "export/reentered/", export.reentered, name="frontdesk_reentered"),
]
