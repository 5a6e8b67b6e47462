// @ts-check
// One peer-to-peer call (WebRTC, DTLS-SRTP): the peer connection, ICE restarts and connection
// quality. No DOM: the page listens through the on* callbacks.

/**
 * The connection quality the call measures every 2 s.
 * @typedef {object} Quality
 * @property {"gut" | "mittel" | "schlecht"} level what the person is shown
 * @property {number | null} rtt current round-trip time in ms, null before the first measurement
 * @property {number} loss share of incoming packets lost, 0…1
 * @property {number | null} fps incoming video frames per second, if known
 * @property {number} framesDecoded incoming video frames decoded so far
 * @property {number | null} width incoming video width in pixels, if known
 * @property {number | null} height incoming video height in pixels, if known
 */

/** @typedef {import("./signalling.js").MediaState} MediaState */

/** The video's first two seconds go out at 1/4 of the camera's width and height (320×180 of 720p):
 * its first key frame is a quarter the size of one at half resolution, so it is encoded and paced
 * out sooner. Measured with bench/call_setup.py, the three sizes taking turns in one run (8 calls
 * each, admit → first frame received on both sides): 1/2 139 ms, 1/3 133 ms, 1/4 93 ms. */
const QUICK_START_SCALE = 4;

export class Call {
  /**
   * @param {{polite: boolean, iceServers: RTCIceServer[], localStream: MediaStream,
   *          sendSignal: (payload: import("./signalling.js").SignalPayload) => void,
   *          sending?: boolean}} options
   *  The impolite side (the doctor) makes offers and ICE restarts; the polite side (the patient)
   *  answers and asks for a restart when its connection fails. With `sending: false` the
   *  connection is negotiated (ICE and DTLS) but carries no media until startSending(): the
   *  senders hold no track, so not one RTP packet leaves (docs/signalling.md, "Early connection").
   */
  constructor({ polite, iceServers, localStream, sendSignal, sending = true }) {
    /** The polite side answers and asks for restarts; the impolite side offers. */
    this.polite = polite;
    /** Sends a payload to the other side (through the signalling server). */
    this.sendSignal = sendSignal;
    /** @type {(stream: MediaStream) => void} the other side's media arrived (again) */
    this.onRemoteStream = () => {};
    /** @type {(state: RTCPeerConnectionState) => void} the connection state changed */
    this.onState = () => {};
    /** @type {(quality: Quality) => void} every 2 s while connected */
    this.onQuality = () => {};
    /** @type {(state: MediaState) => void} the other side's microphone/camera/screen changed */
    this.onRemoteMedia = () => {};
    /** Whether the senders carry our tracks (false: negotiated, no media yet). */
    this.sending = sending;
    /** Whether this connection made its first offer. */
    this.offered = false;
    /** Whether the video was set to start at a quarter of its size (quickStartResolution). */
    this.quickStarted = false;
    /** @type {number | undefined} back to full resolution after the quick start */
    this.fullResolutionTimer = undefined;
    /** The peer connection; its media is DTLS-SRTP from browser to browser. */
    this.pc = new RTCPeerConnection({ iceServers, bundlePolicy: "max-bundle" });
    /** The other side's tracks, gathered into one stream. */
    this.remoteStream = new MediaStream();
    /** @type {RTCIceCandidateInit[]} candidates that came before the remote description */
    this.pendingCandidates = [];
    /** @type {number | undefined} the next ICE restart while the connection is down */
    this.restartTimer = undefined;
    /** @type {Map<string, RTCRtpSender>} our sender per kind ("audio", "video") */
    this.senders = new Map();
    /** @type {Map<string, MediaStreamTrack>} what each sender carries while sending */
    this.outgoing = new Map();
    for (const track of localStream.getTracks()) {
      this.senders.set(track.kind, this.pc.addTrack(track, localStream));
      this.outgoing.set(track.kind, track);
    }
    /** Whether the video sender holds its track with its encoding switched off until admission
     * (false: the track is detached instead, where the browser cannot switch an encoding off). */
    this.videoPaused = false;
    /** Resolves once no sender can send (sending: false), before any description is made. */
    this.detached = sending ? Promise.resolve() : this.holdMedia();
    /** @type {() => void} the other side started its media (admission, told browser to browser) */
    this.onPeerStarted = () => {};
    /** A small channel of our own beside the media (SCTP in the same DTLS connection, no RTP): the
     * doctor's browser says "start" through it the moment it admits, which is quicker than the
     * server's "admitted" — that still comes and is what the patient's page relies on. */
    this.control = this.pc.createDataChannel("control", { negotiated: true, id: 0 });
    this.control.onmessage = ({ data }) => {
      if (data === "start") this.onPeerStarted();
    };
    this.pc.ontrack = (event) => {
      this.remoteStream.addTrack(event.track);
      this.onRemoteStream(this.remoteStream);
    };
    this.pc.onicecandidate = ({ candidate }) => {
      if (candidate) this.sendSignal({ candidate: candidate.toJSON() });
    };
    this.pc.onconnectionstatechange = () => this.connectionChanged();
    /** Measures the quality every 2 s. */
    this.qualityTimer = setInterval(() => this.measure(), 2000);
  }

  /** The description just set on our side, to send to the other side. */
  localDescription() {
    const description = this.pc.localDescription;
    if (!description) throw new Error("no local description after setLocalDescription");
    return description.toJSON();
  }

  get state() {
    return this.pc.connectionState;
  }

  /**
   * The impolite side starts (and restarts) negotiation.
   * @param {{iceRestart?: boolean}} [options]
   */
  async offer({ iceRestart = false } = {}) {
    await this.detached;
    const offer = await this.pc.createOffer({ iceRestart });
    await this.pc.setLocalDescription(offer);
    if (!iceRestart && !this.offered) await this.quickStartResolution();
    // The first offer of a new connection says so: the other side answers it with a fresh one.
    const fresh = !iceRestart && !this.offered;
    this.offered = true;
    this.sendSignal(fresh ? { description: this.localDescription(), fresh: true } : { description: this.localDescription() });
  }

  /** Whether an answer arrived, i.e. the connection is negotiated (ICE may still be checking). */
  get negotiated() {
    return Boolean(this.pc.remoteDescription);
  }

  /**
   * Handles a payload relayed from the other side.
   * @param {import("./signalling.js").SignalPayload} payload
   */
  async handle(payload) {
    if (payload.media) {
      this.onRemoteMedia(payload.media);
    } else if (payload.description) {
      await this.detached;
      await this.pc.setRemoteDescription(payload.description);
      for (const candidate of this.pendingCandidates.splice(0)) await this.pc.addIceCandidate(candidate).catch(() => {});
      if (payload.description.type === "offer") {
        await this.pc.setLocalDescription(await this.pc.createAnswer());
        await this.quickStartResolution();
        this.sendSignal({ description: this.localDescription() });
      }
    } else if (payload.candidate) {
      if (this.pc.remoteDescription) await this.pc.addIceCandidate(payload.candidate).catch(() => {});
      else this.pendingCandidates.push(payload.candidate);
    } else if (payload.restart && !this.polite) {
      await this.offer({ iceRestart: true });
    }
  }

  /**
   * Until admission nothing may be sent (docs/signalling.md). The video sender keeps its track and
   * its encoder with the encoding switched off (`active: false`, already at the quick-start size):
   * switching it on at admission shows the first frame in about half the time that attaching the
   * track again takes (46 ms against 102 ms, median of 8 each, two bare connections in Chromium),
   * because the encoder does not have to be set up then. The microphone is detached.
   */
  async holdMedia() {
    const video = this.senders.get("video");
    const audio = this.senders.get("audio");
    if (video) {
      const params = video.getParameters();
      if (params.encodings?.length) {
        params.encodings[0].active = false;
        params.encodings[0].scaleResolutionDownBy = QUICK_START_SCALE;
        this.videoPaused = await video.setParameters(params).then(() => true, () => false);
        this.quickStarted = this.videoPaused;
      }
      if (!this.videoPaused) await video.replaceTrack(null);
    }
    if (audio) await audio.replaceTrack(null);
  }

  /** Admission: the senders start carrying our tracks; no renegotiation needed. */
  async startSending() {
    await this.detached;
    this.sending = true;
    if (!this.polite && this.control.readyState === "open") this.control.send("start");
    const video = this.senders.get("video");
    if (video && this.videoPaused) {
      const params = video.getParameters();
      params.encodings[0].active = true;
      await video.setParameters(params);
    }
    if (this.quickStarted) this.fullResolutionSoon();
    else await this.quickStartResolution();
    await Promise.all(
      [...this.senders]
        .filter(([kind]) => !(kind === "video" && this.videoPaused))
        .map(([kind, sender]) => sender.replaceTrack(this.outgoing.get(kind) ?? null)),
    );
  }

  /**
   * The first video frame leaves at once: the encoder starts at a quarter of the width and height
   * (QUICK_START_SCALE), set while the connection is made, and goes to full resolution two seconds
   * after the media started. At full resolution it would drop its first frames (about 200 ms) until
   * the bandwidth estimate allows 720p; while the estimate ramps up the browser sends less anyway.
   */
  async quickStartResolution() {
    if (this.quickStarted) return;
    this.quickStarted = true;
    const sender = this.senders.get("video");
    const params = sender?.getParameters();
    if (!sender || !params?.encodings?.length) return;
    params.encodings[0].scaleResolutionDownBy = QUICK_START_SCALE;
    await sender.setParameters(params).catch(() => {});
    if (this.sending) this.fullResolutionSoon();
  }

  fullResolutionSoon() {
    const sender = this.senders.get("video");
    if (!sender || this.fullResolutionTimer !== undefined) return;
    this.fullResolutionTimer = setTimeout(() => {
      const later = sender.getParameters();
      if (!later.encodings?.length || this.pc.connectionState === "closed") return;
      later.encodings[0].scaleResolutionDownBy = 1;
      sender.setParameters(later).catch(() => {});
    }, 2000);
  }

  /**
   * Sends `track` for its kind from now on (another camera, or a shared screen instead of the
   * camera); carried at once while sending, otherwise from startSending() on.
   * @param {MediaStreamTrack} track
   */
  async setOutgoing(track) {
    this.outgoing.set(track.kind, track);
    await this.detached;
    // A paused video sender holds its track (switched off): it takes the new one at once.
    if (this.sending || (track.kind === "video" && this.videoPaused)) await this.senders.get(track.kind)?.replaceTrack(track);
  }

  /**
   * Tells the other side what our microphone, camera and screen do.
   * @param {MediaState} state
   */
  sendMedia(state) {
    this.sendSignal({ media: state });
  }

  /** Bytes of media (RTP) sent and received so far, over all streams. */
  async mediaBytes() {
    let sent = 0;
    let received = 0;
    (await this.pc.getStats()).forEach((report) => {
      if (report.type === "outbound-rtp") sent += report.bytesSent ?? 0;
      if (report.type === "inbound-rtp") received += report.bytesReceived ?? 0;
    });
    return { sent, received };
  }

  connectionChanged() {
    const state = this.pc.connectionState;
    this.onState(state);
    clearTimeout(this.restartTimer);
    if (state === "disconnected" || state === "failed") {
      // Give a brief drop a moment to heal by itself, then restart ICE; keep trying while it lasts.
      const wait = state === "failed" ? 0 : 2000;
      this.restartTimer = setTimeout(() => this.restart(), wait);
    }
  }

  restart() {
    if (this.pc.connectionState === "connected" || this.pc.connectionState === "closed") return;
    if (this.polite) this.sendSignal({ restart: true });
    else this.offer({ iceRestart: true }).catch(() => {});
    this.restartTimer = setTimeout(() => this.restart(), 5000);
  }

  /** Quality from getStats: round-trip time, packet loss and incoming frame rate. */
  async measure() {
    if (this.pc.connectionState !== "connected") return;
    const stats = await this.pc.getStats();
    /** @type {number | null} */
    let rtt = null;
    let lost = 0;
    let received = 0;
    /** @type {number | null} */
    let fps = null;
    let framesDecoded = 0;
    /** @type {number | null} */
    let width = null;
    /** @type {number | null} */
    let height = null;
    stats.forEach((report) => {
      if (report.type === "candidate-pair" && report.nominated && report.currentRoundTripTime !== undefined) {
        rtt = report.currentRoundTripTime * 1000;
      }
      if (report.type === "inbound-rtp") {
        lost += report.packetsLost ?? 0;
        received += report.packetsReceived ?? 0;
        if (report.kind === "video") {
          fps = report.framesPerSecond ?? fps;
          framesDecoded = report.framesDecoded ?? 0;
          width = report.frameWidth ?? width;
          height = report.frameHeight ?? height;
        }
      }
    });
    const loss = received + lost > 0 ? lost / (received + lost) : 0;
    /** @type {Quality["level"]} */
    let level = "gut";
    if ((rtt !== null && rtt > 400) || loss > 0.08) level = "schlecht";
    else if ((rtt !== null && rtt > 200) || loss > 0.03) level = "mittel";
    this.onQuality({ level, rtt, loss, fps, framesDecoded, width, height });
  }

  close() {
    clearInterval(this.qualityTimer);
    clearTimeout(this.fullResolutionTimer);
    clearTimeout(this.restartTimer);
    this.pc.close();
  }
}
