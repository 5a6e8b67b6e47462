from django.contrib import admin
from django.urls import include, path

from sprechzimmer import (
    guide,
    home,
    inputs,  # noqa: F401  (registers the <id:…> path converter)
    metrics,
)
from sprechzimmer.accounts import screenlock
from sprechzimmer.accounts import views as accounts
from sprechzimmer.api import views as api_views
from sprechzimmer.api.endpoints import api as api_v1
from sprechzimmer.approval import views as approval
from sprechzimmer.billing import views as billing
from sprechzimmer.booking import views as booking
from sprechzimmer.conference import views as conference
from sprechzimmer.contracts import views as contracts
from sprechzimmer.duty.views import applications as coop
from sprechzimmer.duty.views import doctor as duty_doctor
from sprechzimmer.duty.views import pay
from sprechzimmer.duty.views import staff as duty_staff
from sprechzimmer.duty.views import video as duty_video
from sprechzimmer.invitations import views as invitations
from sprechzimmer.records import views as records
from sprechzimmer.status import views as status
from sprechzimmer.video import views as video

urlpatterns = [
    path("", home.home, name="home"),
    path("betrieb/", admin.site.urls),
    path("impressum/", home.legal, {"page": "imprint"}, name="imprint"),
    path("datenschutz/", home.legal, {"page": "privacy"}, name="privacy"),
    path("nutzungsbedingungen/", home.legal, {"page": "terms"}, name="terms"),
    path("hilfe/", guide.practice_help, name="help"),
    path("hilfe/patienten/", guide.patient_help, name="patient_help"),
    path("hilfe/patienten.pdf", guide.patient_guide_pdf, name="patient_guide_pdf"),
    path("hilfe/praxis.pdf", guide.practice_manual_pdf, name="practice_manual_pdf"),
    path("status/", status.page, name="status"),
    path("status.json", status.as_json, name="status_json"),
    path("metrics", metrics.metrics_view, name="metrics"),  # the operator's Prometheus (docs/operations.md)
    path("konto/registrierung/pruefen/", accounts.signup_check, name="signup_check"),
    # Before allauth's: the same path and name, "switch the app" instead of "deactivate".
    path("konto/2fa/totp/deactivate/", accounts.SwitchTOTPView.as_view(), name="mfa_deactivate_totp"),
    path("konto/", include("allauth.urls")),
    path("einladung/<str:token>/", accounts.accept_invitation, name="accept_invitation"),
    path("geraet/wartet/", accounts.device_pending, name="device_pending"),
    path("gesperrt/", screenlock.locked, name="screen_locked"),
    path("api/sperren/", screenlock.lock, name="api_lock"),
    path("api/entsperren/", screenlock.unlock, name="api_unlock"),
    path("praxis/", home.dashboard, name="dashboard"),
    path("praxis/mitglieder/", accounts.members, name="members"),
    path("praxis/mitglieder/<id:pk>/aktiv/", accounts.member_set_active, name="member_set_active"),
    path("praxis/einladungen/<id:pk>/zurueckziehen/", accounts.invitation_revoke, name="invitation_revoke"),
    path("praxis/geraete/", accounts.device_list, name="devices"),
    path("praxis/geraete/<id:pk>/sperren/", accounts.device_revoke, name="device_revoke"),
    path("praxis/geraete/<id:pk>/freigeben/", accounts.device_approve, name="device_approve"),
    path("praxis/geraete/<id:pk>/umbenennen/", accounts.device_rename, name="device_rename"),
    path(
        "praxis/mitglieder/<id:pk>/geraetefreigabe-aufheben/",
        accounts.member_device_approval,
        name="member_device_approval",
    ),
    path("praxis/einstellungen/", accounts.practice_settings, name="practice_settings"),
    path("praxis/rechnungsdaten/", contracts.contract_page, name="contract"),
    path("praxis/rechnungsdaten/organisation/", contracts.billing_details, name="contract_billing_details"),
    path("praxis/rechnungsdaten/bankverbindung/", contracts.bank_details, name="contract_bank_details"),
    path("praxis/rechnungsdaten/rechnungen/<id:pk>/", contracts.invoice_pdf, name="contract_invoice"),
    path("praxis/rechnungsdaten/avv.pdf", contracts.avv_pdf, name="contract_avv"),
    path("praxis/rechnungsdaten/avv/annehmen/", contracts.avv_confirm, name="contract_avv_confirm"),
    path(
        "praxis/rechnungsdaten/avv-bestaetigung.pdf", contracts.avv_confirmation_pdf, name="contract_avv_confirmation"
    ),
    path("praxis/rechnungsdaten/vertrag/wechseln/", contracts.switch_plan, name="contract_switch"),
    path("praxis/rechnungsdaten/vertrag/kuendigen/", contracts.cancel, name="contract_cancel"),
    path("praxis/rechnungsdaten/vertrag/widerrufen/", contracts.revoke, name="contract_revoke"),
    path("praxis/kv-genehmigung/", approval.page, name="approval"),
    path("praxis/kv-genehmigung/<slug:kind>.pdf", approval.document, name="approval_document"),
    path("praxis/kv-genehmigung/zertifikat/<slug:kind>.pdf", approval.certificate, name="approval_certificate"),
    path("praxis/kv-genehmigung/<slug:kind>/stand/", approval.progress, name="approval_progress"),
    path("praxis/termine/", video.calendar, name="calendar"),
    path("praxis/termine/<id:pk>/raum/", video.room, name="room"),
    path("api/v1/", api_v1.urls),
    path("praxis/api-zugaenge/", api_views.clients, name="api_clients"),
    path("praxis/online-buchung/", booking.settings_page, name="booking_settings"),
    path("praxis/online-buchung/<id:pk>/entfernen/", booking.delete_hours, name="booking_hours_delete"),
    path("buchen/<slug:slug>/", booking.public_page, name="booking_public"),
    path("api/buchen/<slug:slug>/", booking.api_book, name="api_book"),
    path("api/termine/<id:pk>/bestaetigen/", booking.api_confirm, name="api_booking_confirm"),
    path("praxis/api-zugaenge/<id:pk>/sperren/", api_views.revoke, name="api_client_revoke"),
    path("praxis/api-zugaenge/<id:pk>/schluessel/", api_views.grant_key, name="api_client_grant_key"),
    path("praxis/api-zugaenge/webhooks/", api_views.webhook_list, name="api_webhooks"),
    path("praxis/api-zugaenge/webhooks/<id:pk>/loeschen/", api_views.webhook_delete, name="api_webhook_delete"),
    path("api/termine/", video.api_appointments, name="api_appointments"),
    path("api/termine/<id:pk>/", video.api_appointment, name="api_appointment"),
    path("api/termine/<id:pk>/code/", video.api_reissue_code, name="api_reissue_code"),
    path("api/termine/<id:pk>/egk/", video.api_egk_checked, name="api_egk_checked"),
    path("api/termine/<id:pk>/einladung/", invitations.api_send_invitation, name="api_send_invitation"),
    path("api/termine/<id:pk>/nachfrage/", invitations.api_send_late_reminder, name="api_send_late_reminder"),
    path("sms/zustellberichte/", invitations.sms_delivery_report, name="sms_delivery_report"),
    path("api/praxis/schluesselpaar/", video.api_practice_keypair, name="api_practice_keypair"),
    path("api/termine/<id:pk>/konferenz/", conference.api_conference, name="api_conference"),
    path("api/termine/<id:pk>/konferenz/teilnehmende/", conference.api_invite, name="api_conference_invite"),
    path(
        "api/termine/<id:pk>/konferenz/teilnehmende/<id:participant>/hereinbitten/",
        conference.api_admit,
        name="api_conference_admit",
    ),
    path(
        "api/termine/<id:pk>/konferenz/teilnehmende/<id:participant>/entfernen/",
        conference.api_remove,
        name="api_conference_remove",
    ),
    path(
        "api/termine/<id:pk>/konferenz/teilnehmende/<id:participant>/schluessel/",
        conference.api_grant,
        name="api_conference_grant",
    ),
    path("api/termine/<id:pk>/konferenz/zugang/", conference.api_doctor_access, name="api_conference_doctor_access"),
    path("sprechstunde/", video.join, name="join"),
    path("sprechstunde/technik/", video.device_check, name="device_check"),
    path("api/sprechstunde/zugang/", video.api_patient_access, name="api_patient_access"),
    path("api/sprechstunde/einwilligung/", video.api_patient_consent, name="api_patient_consent"),
    path("api/konferenz/code/", conference.api_guest_code, name="api_conference_guest_code"),
    path("api/konferenz/zugang/", conference.api_participant_access, name="api_conference_access"),
    path("api/konferenz/schluessel/", conference.api_participant_key, name="api_conference_key"),
    path("api/konferenz/verlassen/", conference.api_participant_leave, name="api_conference_leave"),
    path("konferenz/", conference.guest_page, name="conference_guest"),
    path("praxis/abrechnung/", billing.index, name="billing"),
    path("praxis/abrechnung/pruefen/", billing.upload, name="billing_upload"),
    path("praxis/abrechnung/videokontakte/", billing.video_contacts, name="billing_video_contacts"),
    path("praxis/abrechnung/<id:pk>/", billing.report, name="billing_report"),
    path("praxis/abrechnung/<id:pk>/loeschen/", billing.report_delete, name="billing_report_delete"),
    path("praxis/abrechnung/<id:pk>/befunde.csv", billing.report_csv, name="billing_report_csv"),
    path("praxis/abrechnung/<id:pk>/bericht.pdf", billing.report_pdf, name="billing_report_pdf"),
    path("kooperationsarzt/", coop.start, name="coop_start"),
    path("kooperationsarzt/antrag/<str:token>/", coop.application, name="coop_application"),
    path(
        "kooperationsarzt/antrag/<str:token>/dokumente/<id:pk>/",
        coop.applicant_document,
        name="coop_applicant_document",
    ),
    path(
        "kooperationsarzt/antrag/<str:token>/dokumente/<id:pk>/entfernen/",
        coop.applicant_document_delete,
        name="coop_applicant_document_delete",
    ),
    path("kv/antraege/", coop.staff_list, name="coop_staff_list"),
    path("kv/antraege/<id:pk>/", coop.staff_detail, name="coop_staff_detail"),
    path("kv/antraege/<id:pk>/dokumente/<id:doc_pk>/", coop.staff_document, name="coop_staff_document"),
    path("kv/antraege/<id:pk>/entscheiden/", coop.staff_decide, name="coop_staff_decide"),
    path("kv/", duty_staff.kv_home, name="duty_kv"),
    path("kv/kooperationsaerzte/", pay.cooperating_doctors, name="duty_cooperating"),
    path("kv/kooperationsaerzte/saetze/", pay.terms_add, name="duty_terms_add"),
    path("kv/kooperationsaerzte/<id:pk>/kuendigung/", pay.record_notice, name="duty_record_notice"),
    path(
        "kv/kooperationsaerzte/<id:pk>/abrechnung/<int:year>/<int:month>/",
        pay.doctor_statement,
        name="duty_doctor_statement",
    ),
    path(
        "kv/kooperationsaerzte/<id:pk>/abrechnung/<int:year>/<int:month>/pdf/",
        pay.doctor_statement,
        {"as_pdf": True},
        name="duty_doctor_statement_pdf",
    ),
    path("kv/plaene/<id:pk>/dienste/<id:duty_pk>/nicht-angetreten/", pay.record_missed, name="duty_record_missed"),
    path("kv/kooperationsaerzte/<id:pk>/bonus/<int:year>/<int:month>/", pay.doctor_bonus, name="duty_doctor_bonus"),
    path("kv/umsaetze/", pay.revenues, name="duty_revenues"),
    path("kv/umsaetze/hochladen/", pay.revenue_upload, name="duty_revenue_upload"),
    path("kv/bereiche/<id:pk>/pseudofaelle/<int:year>/<int:number>/", pay.pseudo_cases, name="duty_pseudo_cases"),
    path("kv/bereiche/neu/", duty_staff.area_create, name="duty_area_create"),
    path("kv/bereiche/<id:pk>/video/", duty_video.dispatch, name="duty_video_dispatch"),
    path("kv/bereiche/<id:pk>/video/einrichten/", duty_video.set_up, name="duty_video_setup"),
    path("kv/bereiche/<id:pk>/video/<int:year>/<int:number>.con", duty_video.contacts_kvdt, name="duty_video_kvdt"),
    path(
        "kv/bereiche/<id:pk>/video/<int:year>/<int:number>/bonus/",
        duty_video.contacts_to_bonus,
        name="duty_video_bonus",
    ),
    path("kv/bereiche/<id:pk>/", duty_staff.area_detail, name="duty_area"),
    path("kv/bereiche/<id:pk>/loeschen/", duty_staff.area_delete, name="duty_area_delete"),
    path("kv/einladungen/<id:pk>/zurueckziehen/", duty_staff.invitation_withdraw, name="duty_invitation_withdraw"),
    path("kv/dienstarten/<id:pk>/zeiten/", duty_staff.duty_type_times, name="duty_type_times"),
    path("kv/plaene/neu/", duty_staff.plan_create, name="duty_plan_create"),
    path("kv/planung/neu/", duty_staff.kv_run_create, name="duty_kv_run_create"),
    path("kv/planung/<id:pk>/", duty_staff.kv_run_detail, name="duty_kv_run"),
    path("kv/plaene/<id:pk>/", duty_staff.plan_detail, name="duty_plan"),
    path("kv/plaene/<id:pk>/dienste/<id:duty_pk>/", duty_staff.plan_assign, name="duty_plan_assign"),
    path("kv/plaene/<id:pk>/neu-berechnen/", duty_staff.plan_solve, name="duty_plan_solve"),
    path("kv/plaene/<id:pk>/veroeffentlichen/", duty_staff.plan_publish, name="duty_plan_publish"),
    path("dienste/", duty_doctor.my_duties, name="duty_mine"),
    path("dienste/video/", duty_video.queue, name="duty_video_queue"),
    path("dienste/video/<id:pk>/", duty_video.room, name="duty_video_room"),
    path("dienste/wuensche/", duty_doctor.preferences, name="duty_preferences"),
    path("dienste/boerse/", duty_doctor.exchange_page, name="duty_exchange"),
    path("dienste/tausch/", duty_doctor.swap_offer, name="duty_swap_offer"),
    path("dienste/tausch/<id:pk>/annehmen/", duty_doctor.swap_accept, name="duty_swap_accept"),
    path("dienste/tausch/<id:pk>/ablehnen/", duty_doctor.swap_decline, name="duty_swap_decline"),
    path("dienste/tausch/<id:pk>/zurueckziehen/", duty_doctor.swap_withdraw, name="duty_swap_withdraw"),
    path("dienste/tausch/<id:pk>/vorschlagen/", duty_doctor.swap_propose, name="duty_swap_propose"),
    path(
        "dienste/tausch/vorschlag/<id:pk>/annehmen/", duty_doctor.swap_proposal_accept, name="duty_swap_proposal_accept"
    ),
    path(
        "dienste/tausch/vorschlag/<id:pk>/ablehnen/",
        duty_doctor.swap_proposal_decline,
        name="duty_swap_proposal_decline",
    ),
    path("dienste/abrechnung/", pay.my_statements, name="duty_statements"),
    path("dienste/bonus/<int:year>/<int:month>/", pay.my_bonus, name="duty_bonus"),
    path("dienste/<id:pk>/ohne-gkv/", pay.without_gkv, name="duty_without_gkv"),
    path("dienste/abrechnung/<int:year>/<int:month>/", pay.my_statement, name="duty_statement"),
    path(
        "dienste/abrechnung/<int:year>/<int:month>/pdf/", pay.my_statement, {"as_pdf": True}, name="duty_statement_pdf"
    ),
    path("dienste/einladung/<str:token>/", duty_doctor.invitation, name="duty_invitation"),
    path("dienste/kalender/", duty_doctor.calendar_link, name="duty_calendar_link"),
    path("dienste/kalender/<str:token>.ics", duty_doctor.feed, name="duty_calendar_feed"),
    path("dienste/<id:pk>/uebernehmen/", duty_doctor.duty_take, name="duty_take"),
    path("dienste/<id:pk>/anbieten/", duty_doctor.duty_offer, name="duty_offer"),
    path("dienste/<id:pk>/zurueckziehen/", duty_doctor.duty_withdraw, name="duty_withdraw"),
    path("dienste/<id:pk>/zurueckgeben/", duty_doctor.duty_give_back, name="duty_give_back"),
    path("dienste/<id:pk>/vertretung/", duty_doctor.duty_handover, name="duty_handover"),
    path("dienste/<id:pk>/vertretung/antwort/", duty_doctor.duty_answer, name="duty_answer"),
    path("api/kv/", accounts.kv_codes, name="kv_codes"),
    path("api/schluessel/", accounts.api_keys, name="api_keys"),
    path("api/schluessel/freigaben/", accounts.api_key_grants, name="api_key_grants"),
    path("api/schluessel/wechsel/", accounts.api_key_rotation, name="api_key_rotation"),
    path("api/schluessel/umschluesseln/", accounts.api_key_reencrypt, name="api_key_reencrypt"),
    path("api/schluessel/wiederherstellung/", accounts.api_recovery_setup, name="api_recovery_setup"),
    path("api/datensaetze/<slug:kind>/", records.api_record, name="api_record"),
]

handler400 = "sprechzimmer.errors.bad_request"
handler403 = "sprechzimmer.errors.permission_denied"
handler404 = "sprechzimmer.errors.page_not_found"
handler500 = "sprechzimmer.errors.server_error"
