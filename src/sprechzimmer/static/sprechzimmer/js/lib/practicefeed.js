// @ts-check
// Live changes of the practice's appointments (/ws/praxis/, docs/signalling.md), for the calendar.
// Protocol only, no DOM: the page sets onAppointment. The socket is a SignallingClient: it
// reconnects with backoff and jitter (a restarted server process is not stormed by every open
// calendar at once) and sends the heartbeat at which the server checks access again, so a revoked
// device or member loses the feed even if the revocation's message was lost. Refused, it asks
// again every 30 s.
import { SignallingClient } from "./signalling.js";

export class PracticeFeed {
  constructor() {
    /**
     * Called with the new state of each appointment that changed.
     * @type {(appointment: import("./signalling.js").AppointmentState) => void}
     */
    this.onAppointment = () => {};
  }

  connect() {
    new SignallingClient("/ws/praxis/")
      .on("appointment", ({ appointment }) => this.onAppointment(appointment))
      .on("close", (event) => {
        // Refused (the session ended or the screen is locked, perhaps only for now: a login in
        // another tab brings the session back): ask again in 30 s, so the live list does not stay
        // dead until a reload. The client itself reconnects after anything else.
        if (event.code >= 4000) setTimeout(() => this.connect(), 30000);
      })
      .connect();
  }
}
