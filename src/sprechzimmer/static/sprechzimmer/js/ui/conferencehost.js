// @ts-check
// The doctor's side of a conference (issue 18) on the room page: invite further participants
// (role, a name encrypted here under the practice key, their own code shown once), see them wait
// and admit them by name, make the conference key and seal it to every admitted participant's call
// key (the key relay of docs/signalling.md), a new key when someone leaves, and move the call from
// peer-to-peer to the Janus room when the third person is admitted and back to peer-to-peer when
// two are left: the patient (the page's own direct call) or one guest (a pair socket of its own).
import * as e2ee from "../lib/e2ee.js";
import { getJson, request } from "../lib/api.js";
import { ConferenceKeys, MAX_NAME } from "../lib/confkeys.js";
import { FrameCrypto } from "../lib/framecrypto.js";
import { ConferenceView, ROLE_LABELS } from "./conference.js";
import { find } from "./dom.js";
import { errorMessage, onSubmit } from "./forms.js";
import { SignallingClient } from "../lib/signalling.js";

const KIND = "conference-participant";
const UNREADABLE = "(nicht lesbar)";
const POLL_MS = 2000;
/** The doctor sends with a new key this long after sealing it to the others (their polls). */
const SWITCH_MS = 3000;

/**
 * @typedef {object} ParticipantJson
 * @property {number} id
 * @property {string} public_id
 * @property {string} role
 * @property {string} role_label
 * @property {string | null} name
 * @property {string | null} call_key
 * @property {boolean} admitted
 * @property {boolean} removed
 * @property {boolean} left hung up themselves (out of the room and the key; may come back)
 * @property {boolean} present their page asked for its key lately (a closed tab stops asking)
 */

export class ConferenceHost {
  /**
   * @param {object} options
   * @param {HTMLElement} options.panel the "Weitere Teilnehmende" panel
   * @param {string} options.appointment
   * @param {() => Promise<import("../lib/keyring.js").PracticeKey>} options.practiceKey
   * @param {() => {stream: MediaStream, root: HTMLElement} | null} options.screen the call screen, once there
   * @param {() => void} options.onconference the call moves to the room: the page ends its direct call
   * @param {() => string} options.patientName the patient's name as the room page decrypted it ("" before)
   * @param {() => void} options.ondirect only the doctor and the patient are left: the page, out of
   *   the room, offers a fresh direct call
   * @param {(signalling: SignallingClient, iceServers: RTCIceServer[]) => import("../lib/call.js").Call} options.directCall
   *   a new direct call on the call screen whose signals go through `signalling` (this side offers)
   */
  constructor({ panel, appointment, practiceKey, screen, onconference, ondirect, directCall, patientName }) {
    this.panel = panel;
    this.appointment = appointment;
    this.base = `/api/termine/${appointment}/konferenz/`;
    this.directCall = directCall;
    /** @type {{id: number, client: SignallingClient, call: import("../lib/call.js").Call | null} | null}
     * the direct call with the one guest left when the patient is gone */
    this.guest = null;
    this.practiceKey = practiceKey;
    this.screen = screen;
    this.onconference = onconference;
    this.ondirect = ondirect;
    this.patientName = patientName;
    /** The last epoch of an earlier room (the call went back to a direct one): a new room goes on after it. */
    this.lastEpoch = 0;
    /** What the list showed last: it is drawn again only when that changes (a button stays put). */
    this.drawn = "";
    this.form = find(panel, "form", HTMLFormElement);
    this.list = find(panel, ".guests", HTMLElement);
    this.codeBox = find(panel, ".guest-code", HTMLElement);
    this.message = find(panel, ".guest-message", HTMLElement);
    /** @type {Map<number, string>} participant id -> decrypted name */
    this.names = new Map();
    /** @type {ParticipantJson[]} */
    this.participants = [];
    this.conferenceId = "";
    /** @type {ConferenceKeys | null} */
    this.keys = null;
    /** @type {Map<number, string>} participant id -> call key their grant was sealed to */
    this.sealed = new Map();
    /** @type {FrameCrypto | null} */
    this.crypto = null;
    /** @type {ConferenceView | null} */
    this.view = null;
    this.busy = false;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    onSubmit(this.form, () => this.invite().catch((error) => this.say(errorMessage(error))));
    this.list.addEventListener("click", (event) => {
      const button = event.target instanceof Element ? event.target.closest("button[data-action]") : null;
      if (!(button instanceof HTMLButtonElement)) return;
      button.disabled = true;
      const id = Number(button.dataset.id);
      this.act(id, String(button.dataset.action)).catch((error) => this.say(errorMessage(error)));
    });
  }

  /** @param {string} text */
  say(text) {
    this.message.textContent = text;
  }

  /** Picks up a conference made earlier (a reload of the room page). */
  async start() {
    if (this.panel.dataset.open !== "true") return; // none yet: it starts with the first invitation
    try {
      /** @type {{conference: {id: number, participants: ParticipantJson[]}}} */
      const { conference } = await getJson(this.base);
      await this.show(conference);
      this.schedule();
    } catch {
      // 404: no conference yet; it starts with the first invitation.
    }
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh().finally(() => this.schedule()), POLL_MS);
  }

  async refresh() {
    try {
      const { conference } = await getJson(this.base);
      await this.show(conference);
    } catch (error) {
      this.say(errorMessage(error));
    }
  }

  async invite() {
    const role = String(new FormData(this.form).get("role") || "");
    const nameInput = find(this.form, "[name=name]", HTMLInputElement);
    const name = nameInput.value.trim();
    if (!name) return this.say("Bitte geben Sie den Namen der Person ein, damit alle sie erkennen.");
    this.say("Wird eingeladen …");
    const keyEntry = await this.practiceKey();
    await request("POST", this.base, {});
    const sealed = await e2ee.encryptRecord(keyEntry.key, e2ee.recordContext(keyEntry.organisationId, KIND), { name }, keyEntry.version);
    /** @type {{participant: ParticipantJson, code: string}} */
    const { participant, code } = await request("POST", `${this.base}teilnehmende/`, { role, name: sealed });
    this.names.set(participant.id, name);
    nameInput.value = "";
    this.codeBox.hidden = false;
    find(this.codeBox, ".code", HTMLElement).textContent = code;
    find(this.codeBox, ".who", HTMLElement).textContent = `${name} (${participant.role_label})`;
    find(this.codeBox, ".link", HTMLElement).textContent = `${location.origin}/konferenz/#code=${code}`;
    this.say("");
    await this.refresh();
    this.schedule();
  }

  /**
   * @param {number} id
   * @param {string} action "admit" or "remove"
   */
  async act(id, action) {
    const path = action === "admit" ? "hereinbitten" : "entfernen";
    await request("POST", `${this.base}teilnehmende/${id}/${path}/`, {});
    await this.refresh();
  }

  /** @param {{id: number, participants: ParticipantJson[]}} conference */
  async show(conference) {
    this.conferenceId = String(conference.id);
    this.participants = conference.participants;
    const keyEntry = await this.practiceKey().catch(() => null);
    for (const p of conference.participants) {
      if (!p.name || this.names.has(p.id) || !keyEntry) continue;
      try {
        const record = await e2ee.decryptRecord(keyEntry.keys[e2ee.envelopeKid(p.name)] ?? keyEntry.key, e2ee.recordContext(keyEntry.organisationId, KIND), p.name);
        this.names.set(p.id, String(record.name));
      } catch {
        this.names.set(p.id, UNREADABLE);
      }
    }
    this.render();
    if (this.busy) return;
    this.busy = true;
    try {
      await this.sync();
    } finally {
      this.busy = false;
    }
  }

  render() {
    const drawn = JSON.stringify(this.participants.map((p) => [p.id, p.admitted, p.removed, p.present, p.call_key, this.names.get(p.id)]));
    if (drawn === this.drawn) return;
    this.drawn = drawn;
    this.list.replaceChildren();
    for (const p of this.participants) {
      if (p.role === "doctor" || p.role === "patient" || p.removed) continue;
      const item = document.createElement("li");
      item.dataset.role = p.role;
      const away = p.admitted && !p.present;
      item.dataset.state = away ? "away" : p.admitted ? "admitted" : p.call_key ? "waiting" : p.left ? "left" : "invited";
      const label = document.createElement("span");
      const state = away
        ? "Verbindung getrennt"
        : p.admitted
          ? "in der Konferenz"
          : p.call_key
            ? "wartet"
            : p.left
              ? "hat aufgelegt"
              : "eingeladen";
      label.textContent = `${this.names.get(p.id) ?? "…"} · ${ROLE_LABELS[p.role] ?? p.role_label} · ${state}`;
      item.append(label);
      if (!p.admitted && p.call_key) item.append(this.button(p, "admit", "Hereinbitten"));
      item.append(this.button(p, "remove", "Entfernen"));
      this.list.append(item);
    }
  }

  /**
   * @param {ParticipantJson} p
   * @param {string} action
   * @param {string} text
   */
  button(p, action, text) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = action === "admit" ? "small" : "small secondary";
    button.dataset.action = action;
    button.dataset.id = String(p.id);
    button.textContent = text;
    button.setAttribute("aria-label", `${this.names.get(p.id) ?? p.role_label}: ${text}`);
    return button;
  }

  /**
   * Where the call belongs now: the Janus room while the doctor has two others or more (the
   * patient counts until they hung up or were removed), a direct call with the one guest left
   * when the patient is gone, else none of the conference's (the page's own call with the patient).
   * @returns {"room" | ParticipantJson | null}
   */
  place() {
    const guests = this.participants.filter((p) => p.role !== "doctor" && p.role !== "patient" && p.admitted && !p.removed);
    const patient = this.participants.find((p) => p.role === "patient");
    const patientIn = Boolean(patient && !patient.removed && !patient.left);
    if (guests.length && guests.length + (patientIn ? 1 : 0) >= 2) return "room";
    return guests.length === 1 ? guests[0] : null;
  }

  /** Whether the call runs through this conference now (the room or a direct call with a guest),
   * not the page's own direct call with the patient. */
  inCall() {
    return Boolean(this.view || this.guest);
  }

  /** Keys for those admitted, a new epoch for those gone; into the room from the third on, out of
   * it when two are left. */
  async sync() {
    const place = this.place();
    if (place === "room" && !this.view) {
      this.endGuestCall(true);
      await this.enterRoom();
    }
    if (place === "room" && this.keys) await this.rekey(this.keys);
    this.nameTiles();
    if (place !== "room" && this.view) this.leaveRoom(place === null);
    if (place !== "room" && place !== null) this.callGuest(place);
    else if (place === null) this.endGuestCall(false);
  }

  /** @param {ConferenceKeys} keys */
  async rekey(keys) {
    // Everyone's grant carries the names of all who are in (encrypted to each): a newcomer's
    // name reaches the others by sealing the same epoch to them again.
    const names = this.sealedNames();
    const renamed = JSON.stringify(names) !== JSON.stringify(keys.names);
    keys.names = names;
    /** @type {Map<string, string>} participant id -> envelope */
    const out = new Map();
    let rotated = false;
    for (const p of this.participants) {
      if (p.role === "doctor") continue;
      const id = String(p.id);
      const member = keys.members.get(id);
      // Removed by the doctor, hung up (the server took them out: not admitted, no call key),
      // reloaded (another call key) or gone without a word (tab closed, device off: their page
      // stopped asking): out of the key either way. Back again, they get the newest key.
      const gone = p.removed || !p.admitted || !p.present || (member && p.call_key !== member.publicKey);
      if (member && gone) {
        keys.members.delete(id);
        this.sealed.delete(p.id);
        rotated = true;
      }
    }
    if (rotated) for (const [id, envelope] of await keys.rotate()) out.set(id, envelope);
    for (const p of this.participants) {
      if (p.role === "doctor" || !p.admitted || p.removed || !p.call_key || !p.present) continue;
      const id = String(p.id);
      if (!keys.members.has(id)) out.set(id, await keys.admit(id, p.call_key));
    }
    if (renamed) for (const [id, member] of keys.members) if (!out.has(id)) out.set(id, await keys.sealFor(member));
    for (const [id, envelope] of out) {
      const member = keys.members.get(id);
      if (!member) continue;
      await request("POST", `${this.base}teilnehmende/${id}/schluessel/`, { grant: envelope, call_key: member.publicKey }).catch(
        () => keys.members.delete(id), // they changed key meanwhile: sealed again at the next look
      );
    }
    if (rotated && this.crypto) {
      const crypto = this.crypto;
      const own = keys.own();
      crypto.addEpoch(own.epoch, own.secret);
      setTimeout(() => crypto.sendWith(own.epoch, own.sender), SWITCH_MS);
      await this.view?.showKey(own.epoch, own.secret);
    }
  }

  /**
   * Two are left: out of the Janus room, keys dropped. With the patient (`patient`) the page
   * negotiates a fresh direct call on its own socket; with a guest, callGuest does (peer-to-peer
   * while two, issue 18).
   * @param {boolean} patient
   */
  leaveRoom(patient) {
    if (!this.view) return;
    clearInterval(this.tokenTimer);
    this.view.onclose = () => {};
    this.view.end();
    this.crypto?.close();
    this.lastEpoch = this.keys?.epoch ?? this.lastEpoch;
    this.view = null;
    this.crypto = null;
    this.keys = null;
    this.sealed.clear();
    if (patient) this.ondirect();
  }

  /**
   * The doctor and one guest are left (the patient hung up or was removed): a direct call with
   * them over a pair socket (conference/consumers.py). This side offers; the guest's page leaves
   * the room on the first offer and answers, or asks for an offer (`ready`) when it comes back.
   * @param {ParticipantJson} participant
   */
  callGuest(participant) {
    if (this.guest?.id === participant.id) return;
    this.endGuestCall(false);
    const client = new SignallingClient(`/ws/raum/${this.appointment}/konferenz/${participant.id}/`);
    const guest = { id: participant.id, client, call: /** @type {import("../lib/call.js").Call | null} */ (null) };
    this.guest = guest;
    /** @type {RTCIceServer[]} */
    let iceServers = [];
    const offer = () => {
      guest.call = this.directCall(client, iceServers);
      guest.call.offer().catch(() => {});
    };
    client
      .on("config", ({ ice_servers }) => {
        iceServers = ice_servers;
        if (!guest.call) offer();
      })
      .on("signal", ({ payload }) => {
        if (payload.ready) offer();
        else guest.call?.handle(payload).catch(() => {});
      })
      .on("refused", () => {
        if (this.guest === guest) this.endGuestCall(false);
      });
    client.connect();
  }

  /**
   * The direct call with a guest ends: into the room (`toRoom`: their page is told, so it closes
   * its side and joins once it holds the new key), or they are gone.
   * @param {boolean} toRoom
   */
  endGuestCall(toRoom) {
    const guest = this.guest;
    if (!guest) return;
    this.guest = null;
    if (toRoom) guest.client.send({ type: "signal", payload: { conference: true } });
    guest.call?.close();
    guest.client.close();
  }

  /** The patient is back in the waiting room and the doctor lets them in while the call runs
   * through the conference: admitted to it (the room takes them in; a direct call with a guest
   * moves into the room), their page told to join. */
  async admitPatient() {
    const patient = this.participants.find((p) => p.role === "patient");
    if (!patient) return;
    await request("POST", `${this.base}teilnehmende/${patient.id}/hereinbitten/`, {});
    if (this.view) this.onconference();
    await this.refresh();
  }

  /** A participant's tile leaves the room (hung up, lost): they are out of the key from now on. */
  async left() {
    await this.refresh();
  }

  /** @returns {Record<string, string>} Janus id -> name of everyone admitted whose name is known */
  sealedNames() {
    /** @type {Record<string, string>} */
    const names = {};
    const patient = this.patientName();
    for (const p of this.participants) {
      if (!p.admitted || p.removed) continue;
      const name = p.role === "patient" ? patient : this.names.get(p.id);
      if (name && name !== UNREADABLE) names[p.public_id] = name.slice(0, MAX_NAME);
    }
    return names;
  }

  nameTiles() {
    this.view?.setNames(new Map(Object.entries(this.sealedNames())));
  }

  /** The third person is admitted: the patient in too, the key made, the doctor into the room. */
  async enterRoom() {
    const screen = this.screen();
    if (!screen) return;
    const patient = this.participants.find((p) => p.role === "patient");
    if (patient && !patient.admitted && !patient.removed && !patient.left) {
      await request("POST", `${this.base}teilnehmende/${patient.id}/hereinbitten/`, {});
      patient.admitted = true;
    }
    this.crypto = new FrameCrypto();
    this.keys = new ConferenceKeys(this.conferenceId);
    this.keys.epoch = this.lastEpoch; // a room after an earlier one: its key ids are new too
    await this.keys.rotate();
    const own = this.keys.own();
    this.crypto.useGrant(own);
    this.view = new ConferenceView(screen.root, screen.stream, this.crypto);
    await this.view.showKey(own.epoch, own.secret);
    this.onconference();
    const access = await request("POST", `${this.base}zugang/`, {});
    await this.view.join(access);
    this.view.onclose = () => this.say("Die Konferenz ist beendet.");
    this.tokenTimer = setInterval(async () => {
      const fresh = await request("POST", `${this.base}zugang/`, {}).catch(() => null);
      if (fresh) this.view?.session?.setToken(fresh.token);
    }, 5 * 60_000);
  }

  stop() {
    clearTimeout(this.timer);
    clearInterval(this.tokenTimer);
    this.endGuestCall(false);
    this.view?.end();
    this.crypto?.close();
  }
}
