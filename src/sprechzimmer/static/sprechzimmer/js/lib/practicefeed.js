// @ts-check
// Live changes of the practice's appointments (/ws/praxis/, docs/signalling.md), for the calendar.
// Protocol only, no DOM: the page sets onAppointment. Reconnects after 3 s whenever the socket
// closes.
import { socketUrl } from "./signalling.js";

export class PracticeFeed {
  constructor() {
    /**
     * Called with the new state of each appointment that changed.
     * @type {(appointment: import("./signalling.js").AppointmentState) => void}
     */
    this.onAppointment = () => {};
  }

  connect() {
    const socket = new WebSocket(socketUrl("/ws/praxis/"));
    socket.onmessage = (event) => {
      /** @type {{type: "appointment", appointment: import("./signalling.js").AppointmentState}} */
      const { appointment } = JSON.parse(event.data);
      this.onAppointment(appointment);
    };
    socket.onclose = () => setTimeout(() => this.connect(), 3000);
  }
}
