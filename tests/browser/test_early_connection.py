"""Admit in a moment (issue 14): while the patient waits, the doctor's and the patient's browsers
negotiate their connection (ICE and DTLS done) without any media: not one byte of RTP flows in
either direction before admission. Admitting then only starts the media (docs/signalling.md,
"Early connection")."""

import pytest

from sprechzimmer.demo.data import DEMO_PASSWORD
from tests.browser.helpers import hang_up, login
from tests.browser.test_video_call import (
    DOCTOR,
    DOCTOR_TOTP,
    book_appointment,
    patient_enters_waiting_room,
    wait_connected_with_video,
)

pytestmark = pytest.mark.browser

# Keeps every peer connection a page makes, so the test reads their statistics itself.
TRACK_CONNECTIONS = """
window.__pcs = [];
const Original = window.RTCPeerConnection;
window.RTCPeerConnection = class extends Original {
  constructor(...args) { super(...args); window.__pcs.push(this); }
};
"""
# The newest connection: its state, its DTLS state, and the RTP bytes of all of the page's connections.
CONNECTION = """async () => {
  let sent = 0, received = 0, dtls = null;
  for (const pc of window.__pcs) {
    (await pc.getStats()).forEach((r) => {
      if (r.type === 'outbound-rtp') sent += r.bytesSent || 0;
      if (r.type === 'inbound-rtp') received += r.bytesReceived || 0;
      if (r.type === 'transport' && pc === window.__pcs.at(-1)) dtls = r.dtlsState;
    });
  }
  const last = window.__pcs.at(-1);
  return {state: last ? last.connectionState : null, dtls, sent, received, count: window.__pcs.length};
}"""


def tracked_page(new_page):
    page = new_page()
    page.context.add_init_script(TRACK_CONNECTIONS)
    return page


def test_connected_before_admission_without_media(new_page, server):
    doctor, patient = tracked_page(new_page), tracked_page(new_page)
    login(doctor, DOCTOR, DEMO_PASSWORD, DOCTOR_TOTP)
    code, _ = book_appointment(doctor, "Egon Early")
    doctor.click(".appointment:has-text('Egon Early') .room-link")
    doctor.wait_for_selector(".lobby-status:has-text('Noch niemand')")
    patient_enters_waiting_room(patient, code)
    doctor.wait_for_selector("#room .admit:not([hidden])")

    # Both connections reach "connected" with DTLS done, while the patient still waits.
    for page in (doctor, patient):
        page.wait_for_function(f"async () => {{ const c = await ({CONNECTION})(); return c.dtls === 'connected'; }}")
        page.wait_for_function("() => window.__pcs.at(-1).connectionState === 'connected'")
    # Some time for any media to flow if it did; then not one RTP byte either way on either side.
    doctor.wait_for_timeout(3000)
    for page in (doctor, patient):
        stats = page.evaluate(CONNECTION)
        assert stats["state"] == "connected" and stats["dtls"] == "connected", stats
        assert stats["sent"] == 0 and stats["received"] == 0, stats
    assert patient.is_visible("#step-waiting") and patient.is_hidden("#step-call")
    assert doctor.get_attribute("#call", "data-phase") == "idle"

    # Admitting starts the media on the prepared connection: no new connection is made.
    connections = doctor.evaluate("() => window.__pcs.length"), patient.evaluate("() => window.__pcs.length")
    doctor.click("#room .admit")
    wait_connected_with_video(doctor)
    wait_connected_with_video(patient)
    assert (doctor.evaluate("() => window.__pcs.length"), patient.evaluate("() => window.__pcs.length")) == connections
    for page in (doctor, patient):
        page.wait_for_function(
            f"async () => {{ const c = await ({CONNECTION})(); return c.sent > 0 && c.received > 0; }}"
        )
    # The video contact starts with the media, not with the early connection.
    doctor.wait_for_function("() => document.querySelector('.lobby-status').textContent.includes('Im Gespräch')")
    hang_up(doctor)
    patient.wait_for_selector("#step-done:not([hidden])")
    assert (
        server.db.scalar(
            "select count(*) from video_videocontact where appointment_id = (select max(id) from video_appointment)"
        )
        == 1
    )
    assert not [e for e in doctor.errors + patient.errors if "favicon" not in e]
