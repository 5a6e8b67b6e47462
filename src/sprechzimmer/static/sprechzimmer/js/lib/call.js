// One peer-to-peer call (WebRTC, DTLS-SRTP): the peer connection, ICE restarts and connection
// quality. No DOM: the page listens through the on* callbacks.

export class Call {
  /**
   * @param {{polite: boolean, iceServers: RTCIceServer[], localStream: MediaStream,
   *          sendSignal: (payload: object) => void}} options
   *  The impolite side (the doctor) makes offers and ICE restarts; the polite side (the patient)
   *  answers and asks for a restart when its connection fails.
   */
  constructor({ polite, iceServers, localStream, sendSignal }) {
    this.polite = polite;
    this.sendSignal = sendSignal;
    this.onRemoteStream = () => {};
    this.onState = () => {};
    this.onQuality = () => {};
    this.pc = new RTCPeerConnection({ iceServers, bundlePolicy: "max-bundle" });
    this.remoteStream = new MediaStream();
    this.pendingCandidates = [];
    for (const track of localStream.getTracks()) this.pc.addTrack(track, localStream);
    this.pc.ontrack = (event) => {
      this.remoteStream.addTrack(event.track);
      this.onRemoteStream(this.remoteStream);
    };
    this.pc.onicecandidate = ({ candidate }) => {
      if (candidate) this.sendSignal({ candidate: candidate.toJSON() });
    };
    this.pc.onconnectionstatechange = () => this.connectionChanged();
    this.qualityTimer = setInterval(() => this.measure(), 2000);
  }

  get state() {
    return this.pc.connectionState;
  }

  /** The impolite side starts (and restarts) negotiation. */
  async offer({ iceRestart = false } = {}) {
    const offer = await this.pc.createOffer({ iceRestart });
    await this.pc.setLocalDescription(offer);
    this.sendSignal({ description: this.pc.localDescription.toJSON() });
  }

  /** Handles a payload relayed from the other side. */
  async handle(payload) {
    if (payload.description) {
      await this.pc.setRemoteDescription(payload.description);
      for (const candidate of this.pendingCandidates.splice(0)) await this.pc.addIceCandidate(candidate);
      if (payload.description.type === "offer") {
        await this.pc.setLocalDescription(await this.pc.createAnswer());
        this.sendSignal({ description: this.pc.localDescription.toJSON() });
      }
    } else if (payload.candidate) {
      if (this.pc.remoteDescription) await this.pc.addIceCandidate(payload.candidate).catch(() => {});
      else this.pendingCandidates.push(payload.candidate);
    } else if (payload.restart && !this.polite) {
      await this.offer({ iceRestart: true });
    }
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
    let rtt = null;
    let lost = 0;
    let received = 0;
    let fps = null;
    let framesDecoded = 0;
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
        }
      }
    });
    const loss = received + lost > 0 ? lost / (received + lost) : 0;
    let level = "gut";
    if ((rtt !== null && rtt > 400) || loss > 0.08) level = "schlecht";
    else if ((rtt !== null && rtt > 200) || loss > 0.03) level = "mittel";
    this.onQuality({ level, rtt, loss, fps, framesDecoded });
  }

  close() {
    clearInterval(this.qualityTimer);
    clearTimeout(this.restartTimer);
    this.pc.close();
  }
}
