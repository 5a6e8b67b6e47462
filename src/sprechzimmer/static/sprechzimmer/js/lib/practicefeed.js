// @ts-check
// Live changes of the practice's appointments (/ws/praxis/, docs/signalling.md), for the calendar.
// Protocol only, no DOM: the page sets onAppointment. The socket is a SignallingClient: it
// reconnects with backoff and jitter (a restarted server process is not stormed by every open
// calendar at once) and sends the heartbeat at which the server checks access again, so a revoked
// device or member loses the feed even if the revocation's message was lost.
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
    new SignallingClient("/ws/praxis/").on("appointment", ({ appointment }) => this.onAppointment(appointment)).connect();
  }
}
