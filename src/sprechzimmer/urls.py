from django.urls import include, path

from sprechzimmer.accounts import views as accounts
from sprechzimmer.billing import views as billing
from sprechzimmer.records import views as records
from sprechzimmer.video import views as video

urlpatterns = [
    path("", accounts.home, name="home"),
    path("impressum/", accounts.legal, {"page": "imprint"}, name="imprint"),
    path("datenschutz/", accounts.legal, {"page": "privacy"}, name="privacy"),
    path("nutzungsbedingungen/", accounts.legal, {"page": "terms"}, name="terms"),
    path("konto/registrierung/pruefen/", accounts.signup_check, name="signup_check"),
    path("konto/", include("allauth.urls")),
    path("einladung/<str:token>/", accounts.accept_invitation, name="accept_invitation"),
    path("geraet/wartet/", accounts.device_pending, name="device_pending"),
    path("praxis/", accounts.dashboard, name="dashboard"),
    path("praxis/mitglieder/", accounts.members, name="members"),
    path("praxis/mitglieder/<int:pk>/aktiv/", accounts.member_set_active, name="member_set_active"),
    path("praxis/einladungen/<int:pk>/zurueckziehen/", accounts.invitation_revoke, name="invitation_revoke"),
    path("praxis/geraete/", accounts.device_list, name="devices"),
    path("praxis/geraete/<int:pk>/sperren/", accounts.device_revoke, name="device_revoke"),
    path("praxis/geraete/<int:pk>/freigeben/", accounts.device_approve, name="device_approve"),
    path("praxis/geraete/<int:pk>/umbenennen/", accounts.device_rename, name="device_rename"),
    path("praxis/einstellungen/", accounts.practice_settings, name="practice_settings"),
    path("praxis/termine/", video.calendar, name="calendar"),
    path("praxis/termine/<int:pk>/raum/", video.room, name="room"),
    path("api/termine/", video.api_appointments, name="api_appointments"),
    path("api/termine/<int:pk>/", video.api_appointment, name="api_appointment"),
    path("api/termine/<int:pk>/code/", video.api_reissue_code, name="api_reissue_code"),
    path("api/termine/<int:pk>/egk/", video.api_egk_checked, name="api_egk_checked"),
    path("api/praxis/schluesselpaar/", video.api_practice_keypair, name="api_practice_keypair"),
    path("sprechstunde/", video.join, name="join"),
    path("api/sprechstunde/zugang/", video.api_patient_access, name="api_patient_access"),
    path("api/sprechstunde/einwilligung/", video.api_patient_consent, name="api_patient_consent"),
    path("praxis/abrechnung/", billing.index, name="billing"),
    path("praxis/abrechnung/pruefen/", billing.upload, name="billing_upload"),
    path("praxis/abrechnung/videokontakte/", billing.video_contacts, name="billing_video_contacts"),
    path("praxis/abrechnung/<int:pk>/", billing.report, name="billing_report"),
    path("praxis/abrechnung/<int:pk>/befunde.csv", billing.report_csv, name="billing_report_csv"),
    path("praxis/abrechnung/<int:pk>/bericht.pdf", billing.report_pdf, name="billing_report_pdf"),
    path("api/kv/", accounts.kv_codes, name="kv_codes"),
    path("api/schluessel/", accounts.api_keys, name="api_keys"),
    path("api/schluessel/freigaben/", accounts.api_key_grants, name="api_key_grants"),
    path("api/datensaetze/<slug:kind>/", records.api_record, name="api_record"),
]
