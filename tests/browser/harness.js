// Test harness around the official livekit-client SDK, driven from pytest through Playwright
// (tests/support/browser.py). Every function of window.harness is async and takes/returns
// JSON-serialisable values only, so that `page.evaluate` can call it.
/* global LivekitClient, VisioPattern */
'use strict';

(() => {
  const LK = window.LivekitClient;
  const { Room, RoomEvent, Track } = LK;

  const MAX_EVENTS = 10000;
  const CHAT_TOPIC = 'lk.chat';
  const LEGACY_CHAT_TOPIC = 'lk-chat-topic';

  const state = {
    room: null,
    events: [],
    seq: 0,
    chats: [],
    // local synthetic sources, by LiveKit source name: {canvas, timer, track, counter, ...}
    generators: new Map(),
    // remote media elements and analysers, by track sid
    remoteElements: new Map(),
    analysers: new Map(),
    audioContext: null,
  };

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function now() {
    return { t: performance.now(), wall: Date.now() };
  }

  function requireRoom() {
    if (!state.room) throw new Error('harness: not joined (call join first)');
    return state.room;
  }

  function audioContext() {
    if (!state.audioContext) state.audioContext = new AudioContext();
    return state.audioContext;
  }

  function toSource(source) {
    const s = String(source).toLowerCase();
    if (s === 'camera') return Track.Source.Camera;
    if (s === 'microphone' || s === 'mic') return Track.Source.Microphone;
    if (s === 'screen' || s === 'screen_share' || s === 'screenshare') return Track.Source.ScreenShare;
    if (s === 'screen_share_audio') return Track.Source.ScreenShareAudio;
    throw new Error(`harness: unknown track source ${source}`);
  }

  function bytesToBase64(bytes) {
    let binary = '';
    const chunk = 0x8000;
    for (let i = 0; i < bytes.length; i += chunk) {
      binary += String.fromCharCode.apply(null, bytes.subarray(i, i + chunk));
    }
    return btoa(binary);
  }

  // ---- test pattern -------------------------------------------------------------------------

  function patternAvailable() {
    return typeof window.VisioPattern === 'object' && window.VisioPattern !== null &&
      typeof window.VisioPattern.renderPattern === 'function';
  }

  // Draws one frame of the shared test pattern (tests/browser/pattern.js). The fallback only
  // keeps the page usable while pattern.js is missing; it is not decodable by read_pattern.
  function drawPattern(ctx, width, height, counter, timestampMs) {
    if (patternAvailable()) {
      VisioPattern.renderPattern(ctx, width, height, counter, timestampMs);
      return 'VisioPattern';
    }
    ctx.fillStyle = `hsl(${(counter * 7) % 360}, 80%, 50%)`;
    ctx.fillRect(0, 0, width, height);
    ctx.fillStyle = '#fff';
    ctx.font = `${Math.max(12, Math.floor(height / 8))}px sans-serif`;
    ctx.fillText(`#${counter} ${timestampMs}`, 10, Math.floor(height / 2));
    return 'fallback';
  }

  // ---- event log ----------------------------------------------------------------------------

  // A JSON-friendly description of an event argument (participants, publications, tracks, ...).
  function describe(arg, depth = 0) {
    if (arg === null || arg === undefined) return null;
    const type = typeof arg;
    if (type === 'string' || type === 'number' || type === 'boolean') return arg;
    if (type === 'bigint') return Number(arg);
    if (type === 'function') return undefined;
    if (arg instanceof Uint8Array) return { bytes: arg.byteLength };
    if (arg instanceof Error) return { error: String(arg.message || arg), name: arg.name };
    if (arg instanceof LK.Participant) {
      return { identity: arg.identity, sid: arg.sid, name: arg.name, isLocal: arg.isLocal };
    }
    if (arg instanceof LK.TrackPublication) {
      return {
        trackSid: arg.trackSid, source: arg.source, kind: arg.kind, name: arg.trackName,
        muted: arg.isMuted, simulcasted: arg.simulcasted ?? null,
      };
    }
    if (arg instanceof LK.Track) {
      return { trackSid: arg.sid, source: arg.source, kind: arg.kind, muted: arg.isMuted };
    }
    if (Array.isArray(arg)) return depth > 2 ? '[array]' : arg.map((a) => describe(a, depth + 1));
    if (depth > 2) return '[object]';
    const out = {};
    for (const [key, value] of Object.entries(arg)) {
      const d = describe(value, depth + 1);
      if (d !== undefined) out[key] = d;
    }
    return out;
  }

  function record(event, args, extra = {}) {
    const described = args.map((a) => describe(a));
    const entry = { seq: ++state.seq, event, ...now(), args: described };
    // Lift the usual identifiers to the top level for easy matching from Python.
    for (const d of described) {
      if (!d || typeof d !== 'object' || Array.isArray(d)) continue;
      if (d.identity !== undefined && entry.identity === undefined) entry.identity = d.identity;
      for (const key of ['trackSid', 'source', 'kind']) {
        if (d[key] !== undefined && entry[key] === undefined) entry[key] = d[key];
      }
    }
    Object.assign(entry, extra);
    state.events.push(entry);
    if (state.events.length > MAX_EVENTS) state.events.splice(0, state.events.length - MAX_EVENTS);
  }

  // ---- remote media -------------------------------------------------------------------------

  function onTrackSubscribed(track) {
    const container = document.getElementById('remote-media');
    const element = track.attach();
    element.dataset.trackSid = track.sid;
    if (track.kind === Track.Kind.Video) {
      element.muted = true;
      element.autoplay = true;
      element.playsInline = true;
    } else {
      // Chromium feeds WebAudio from a remote WebRTC stream only while the stream is also
      // played by a media element; muted, the element still keeps it flowing.
      element.muted = true;
      element.autoplay = true;
    }
    container.appendChild(element);
    state.remoteElements.set(track.sid, element);
    element.play?.().catch((err) => console.warn(`harness: play() ${track.sid}: ${err}`));
  }

  function onTrackUnsubscribed(track) {
    const element = state.remoteElements.get(track.sid);
    if (element) {
      track.detach(element);
      element.remove();
      state.remoteElements.delete(track.sid);
    }
    const analyser = state.analysers.get(track.sid);
    if (analyser) {
      analyser.source.disconnect();
      state.analysers.delete(track.sid);
    }
  }

  function findRemotePublication(trackSid) {
    const room = requireRoom();
    for (const participant of room.remoteParticipants.values()) {
      const pub = participant.trackPublications.get(trackSid);
      if (pub) return { participant, pub };
    }
    return null;
  }

  function remoteTrackInfo(participant, pub) {
    const element = state.remoteElements.get(pub.trackSid);
    const quality = element?.getVideoPlaybackQuality?.();
    return {
      participantIdentity: participant.identity,
      trackSid: pub.trackSid,
      kind: pub.kind,
      source: pub.source,
      name: pub.trackName,
      muted: pub.isMuted,
      subscribed: pub.isSubscribed,
      simulcasted: pub.simulcasted ?? null,
      width: element && pub.kind === Track.Kind.Video ? element.videoWidth : 0,
      height: element && pub.kind === Track.Kind.Video ? element.videoHeight : 0,
      totalVideoFrames: quality ? quality.totalVideoFrames : 0,
    };
  }

  // ---- local synthetic sources --------------------------------------------------------------

  function startCanvasSource(name, width, height, fps) {
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    canvas.dataset.source = name;
    document.getElementById('local-media').appendChild(canvas);
    const ctx = canvas.getContext('2d');
    const gen = { canvas, ctx, width, height, fps, counter: 0, timer: null, track: null };
    const draw = () => {
      gen.renderer = drawPattern(ctx, width, height, gen.counter, Date.now());
      gen.counter += 1;
    };
    draw();
    gen.timer = setInterval(draw, 1000 / fps);
    gen.stream = canvas.captureStream(fps);
    gen.track = gen.stream.getVideoTracks()[0];
    return gen;
  }

  function stopGenerator(source) {
    const gen = state.generators.get(source);
    if (!gen) return;
    if (gen.timer !== null) clearInterval(gen.timer);
    gen.track?.stop();
    gen.oscillator?.stop();
    gen.canvas?.remove();
    state.generators.delete(source);
  }

  async function publishCanvas(source, opts, defaults) {
    const room = requireRoom();
    const width = opts.width ?? defaults.width;
    const height = opts.height ?? defaults.height;
    const fps = opts.fps ?? defaults.fps;
    const simulcast = opts.simulcast ?? defaults.simulcast;
    if (state.generators.has(source)) throw new Error(`harness: ${source} already published`);
    const gen = startCanvasSource(source, width, height, fps);
    state.generators.set(source, gen);
    const publishOptions = {
      source,
      name: opts.name ?? source,
      videoCodec: opts.videoCodec ?? 'vp8',
      simulcast,
    };
    if (opts.maxBitrate) {
      publishOptions.videoEncoding = { maxBitrate: opts.maxBitrate, maxFramerate: fps };
    }
    if (opts.publishOptions) Object.assign(publishOptions, opts.publishOptions);
    try {
      const pub = await room.localParticipant.publishTrack(gen.track, publishOptions);
      gen.publication = pub;
      return {
        trackSid: pub.trackSid, source: pub.source, width, height, fps, simulcast,
        renderer: gen.renderer,
      };
    } catch (err) {
      stopGenerator(source);
      throw err;
    }
  }

  // ---- the API ------------------------------------------------------------------------------

  const harness = {
    async info() {
      return {
        version: LK.version,
        protocolVersion: LK.protocolVersion ?? null,
        pattern: patternAvailable(),
        patternError: window.__patternLoadError ?? null,
        userAgent: navigator.userAgent,
        secureContext: window.isSecureContext,
      };
    },

    async join(url, token, opts) {
      opts = opts ?? {};
      if (state.room) throw new Error('harness: already joined');
      LK.setLogLevel(opts.logLevel ?? 'info');
      const room = new Room({
        adaptiveStream: opts.adaptiveStream ?? false,
        dynacast: opts.dynacast ?? false,
        ...(opts.roomOptions ?? {}),
      });
      state.room = room;
      for (const name of Object.values(RoomEvent)) {
        room.on(name, (...args) => record(name, args));
      }
      room.on(RoomEvent.TrackSubscribed, onTrackSubscribed);
      room.on(RoomEvent.TrackUnsubscribed, onTrackUnsubscribed);
      room.on(RoomEvent.DataReceived, (payload, participant, kind, topic, _enc, identity) => {
        if (topic !== LEGACY_CHAT_TOPIC) return;
        const from = participant?.identity ?? identity ?? null;
        let msg;
        try {
          msg = JSON.parse(new TextDecoder().decode(payload));
        } catch (err) {
          msg = { message: null, parseError: String(err) };
        }
        state.chats.push({
          via: 'legacy', topic, from, message: msg.message ?? null, id: msg.id ?? null,
          timestamp: msg.timestamp ?? null, ignoreLegacy: msg.ignoreLegacy ?? null,
          editTimestamp: msg.editTimestamp ?? null, ...now(),
        });
      });
      room.registerTextStreamHandler(CHAT_TOPIC, async (reader, participantInfo) => {
        const info = reader.info;
        try {
          const text = await reader.readAll();
          state.chats.push({
            via: 'text-stream', topic: info.topic, from: participantInfo.identity,
            message: text, id: info.id, timestamp: info.timestamp,
            attributes: info.attributes ?? {}, ...now(),
          });
        } catch (err) {
          console.error(`harness: text stream from ${participantInfo.identity}: ${err}`);
        }
      });
      record('harness.connecting', [url]);
      try {
        await room.connect(url, token, {
          autoSubscribe: opts.autoSubscribe ?? true,
          ...(opts.connectOptions ?? {}),
        });
      } catch (err) {
        record('harness.connectFailed', [err]);
        state.room = null;
        throw err;
      }
      record('harness.connected', []);
      return {
        roomName: room.name,
        identity: room.localParticipant.identity,
        participantSid: room.localParticipant.sid,
        remoteParticipants: [...room.remoteParticipants.values()].map((p) => p.identity),
        state: room.state,
      };
    },

    async leave() {
      for (const source of [...state.generators.keys()]) stopGenerator(source);
      const room = state.room;
      if (room) {
        await room.disconnect(true);
        record('harness.left', []);
      }
      for (const element of state.remoteElements.values()) element.remove();
      state.remoteElements.clear();
      for (const a of state.analysers.values()) a.source.disconnect();
      state.analysers.clear();
      state.room = null;
      return true;
    },

    async publishCamera(opts) {
      return publishCanvas(Track.Source.Camera, opts ?? {},
        { width: 1280, height: 720, fps: 30, simulcast: true });
    },

    async publishScreen(opts) {
      return publishCanvas(Track.Source.ScreenShare, opts ?? {},
        { width: 1920, height: 1080, fps: 15, simulcast: false });
    },

    async publishMicrophone(frequencyHz, opts) {
      opts = opts ?? {};
      const room = requireRoom();
      const source = Track.Source.Microphone;
      if (state.generators.has(source)) throw new Error('harness: microphone already published');
      const ctx = audioContext();
      await ctx.resume();
      const oscillator = ctx.createOscillator();
      oscillator.type = 'sine';
      oscillator.frequency.value = frequencyHz ?? 440;
      const gain = ctx.createGain();
      gain.gain.value = opts.gain ?? 0.5;
      const destination = ctx.createMediaStreamDestination();
      oscillator.connect(gain).connect(destination);
      oscillator.start();
      const track = destination.stream.getAudioTracks()[0];
      const gen = { oscillator, gain, destination, track, timer: null };
      state.generators.set(source, gen);
      try {
        const pub = await room.localParticipant.publishTrack(track, {
          source, name: opts.name ?? source, ...(opts.publishOptions ?? {}),
        });
        gen.publication = pub;
        return { trackSid: pub.trackSid, source: pub.source, frequencyHz: oscillator.frequency.value };
      } catch (err) {
        stopGenerator(source);
        throw err;
      }
    },

    async unpublish(source) {
      const room = requireRoom();
      const src = toSource(source);
      const pub = room.localParticipant.getTrackPublication(src);
      if (!pub || !pub.track) throw new Error(`harness: nothing published for ${source}`);
      await room.localParticipant.unpublishTrack(pub.track, true);
      stopGenerator(src);
      return pub.trackSid;
    },

    async setMuted(source, muted) {
      const room = requireRoom();
      const pub = room.localParticipant.getTrackPublication(toSource(source));
      if (!pub) throw new Error(`harness: nothing published for ${source}`);
      if (muted) await pub.mute(); else await pub.unmute();
      return pub.isMuted;
    },

    // Turns simulcast encodings of a local video track on or off, as the browser itself does
    // when it runs short of bandwidth or CPU. `active`: {rid: true|false}; returns the
    // encodings' state afterwards ([{rid, active}]).
    async setEncodingsActive(source, active) {
      const room = requireRoom();
      const pub = room.localParticipant.getTrackPublication(toSource(source));
      const sender = pub?.track?.sender;
      if (!sender) throw new Error(`harness: no sender for ${source}`);
      const params = sender.getParameters();
      for (const encoding of params.encodings ?? []) {
        const key = encoding.rid ?? '';
        if (Object.prototype.hasOwnProperty.call(active, key)) encoding.active = !!active[key];
      }
      await sender.setParameters(params);
      return sender.getParameters().encodings.map((e) => ({ rid: e.rid ?? '', active: e.active }));
    },

    async sendChat(text, destinationIdentities) {
      const room = requireRoom();
      const info = await room.localParticipant.sendText(text, {
        topic: CHAT_TOPIC,
        destinationIdentities: destinationIdentities ?? undefined,
      });
      return { id: info.id, timestamp: info.timestamp, topic: info.topic };
    },

    async sendLegacyChat(text, destinationIdentities) {
      const room = requireRoom();
      const msg = { id: crypto.randomUUID(), timestamp: Date.now(), message: text, ignoreLegacy: false };
      const bytes = new TextEncoder().encode(JSON.stringify(msg));
      await room.localParticipant.publishData(bytes, {
        reliable: true, topic: LEGACY_CHAT_TOPIC,
        destinationIdentities: destinationIdentities ?? undefined,
      });
      return msg;
    },

    async publishData(text, opts) {
      opts = opts ?? {};
      const room = requireRoom();
      await room.localParticipant.publishData(new TextEncoder().encode(text), {
        reliable: opts.reliable ?? true, topic: opts.topic ?? undefined,
        destinationIdentities: opts.destinationIdentities ?? undefined,
      });
      return true;
    },

    async chats() {
      return state.chats.slice();
    },

    async events(sinceSeq) {
      const since = sinceSeq ?? 0;
      return state.events.filter((e) => e.seq > since);
    },

    async participants() {
      const room = requireRoom();
      return [...room.remoteParticipants.values()].map((p) => ({
        identity: p.identity, sid: p.sid, name: p.name, metadata: p.metadata ?? null,
        tracks: [...p.trackPublications.values()].map((pub) => remoteTrackInfo(p, pub)),
      }));
    },

    async remoteTracks() {
      const room = requireRoom();
      const out = [];
      for (const participant of room.remoteParticipants.values()) {
        for (const pub of participant.trackPublications.values()) {
          out.push(remoteTrackInfo(participant, pub));
        }
      }
      return out;
    },

    // Waits until a matching remote track is subscribed (and, for video, shows decoded frames
    // of a known size). `match` fields: identity, source, kind; all optional.
    async waitForRemoteTrack(match, timeoutMs) {
      match = match ?? {};
      const deadline = performance.now() + (timeoutMs ?? 15000);
      const wanted = match.source !== undefined && match.source !== null
        ? toSource(match.source) : null;
      while (performance.now() < deadline) {
        if (state.room) {
          for (const info of await harness.remoteTracks()) {
            if (match.identity && info.participantIdentity !== match.identity) continue;
            if (wanted && info.source !== wanted) continue;
            if (match.kind && info.kind !== match.kind) continue;
            if (!info.subscribed || !state.remoteElements.has(info.trackSid)) continue;
            if (info.kind === Track.Kind.Video && (info.width === 0 || info.totalVideoFrames === 0)) {
              continue;
            }
            return info;
          }
        }
        await sleep(50);
      }
      throw new Error(`harness: no remote track matching ${JSON.stringify(match)} ` +
        `within ${timeoutMs ?? 15000} ms`);
    },

    // Draws the frame that the remote <video> element presents next (or the current one if no
    // new frame comes within frameTimeoutMs) and returns its RGBA pixels.
    async grabFrame(trackSid, opts) {
      opts = opts ?? {};
      const element = state.remoteElements.get(trackSid);
      if (!element || !(element instanceof HTMLVideoElement)) {
        throw new Error(`harness: no remote video element for ${trackSid}`);
      }
      const deadline = performance.now() + (opts.timeoutMs ?? 10000);
      while (element.videoWidth === 0 || element.readyState < 2) {
        if (performance.now() > deadline) {
          throw new Error(`harness: remote video ${trackSid} shows no frame`);
        }
        await sleep(20);
      }
      let metadata = null;
      if (typeof element.requestVideoFrameCallback === 'function') {
        metadata = await Promise.race([
          new Promise((resolve) => element.requestVideoFrameCallback((_now, m) => resolve(m))),
          sleep(opts.frameTimeoutMs ?? 1000).then(() => null),
        ]);
      }
      const width = element.videoWidth;
      const height = element.videoHeight;
      const canvas = document.createElement('canvas');
      canvas.width = width;
      canvas.height = height;
      const ctx = canvas.getContext('2d', { willReadFrequently: true });
      ctx.drawImage(element, 0, 0, width, height);
      const pixels = ctx.getImageData(0, 0, width, height).data;
      const quality = element.getVideoPlaybackQuality();
      return {
        width, height,
        rgbaBase64: bytesToBase64(new Uint8Array(pixels.buffer)),
        fresh: metadata !== null,
        presentedFrames: metadata ? metadata.presentedFrames : null,
        rtpTimestamp: metadata ? (metadata.rtpTimestamp ?? null) : null,
        totalVideoFrames: quality.totalVideoFrames,
        droppedVideoFrames: quality.droppedVideoFrames,
        wall: Date.now(),
      };
    },

    // Dominant frequency (Hz) and RMS (0..1 full scale) of a remote audio track, measured with
    // an AnalyserNode over durationMs.
    async audioLevel(trackSid, opts) {
      opts = opts ?? {};
      const element = state.remoteElements.get(trackSid);
      const found = findRemotePublication(trackSid);
      const track = found?.pub?.track;
      if (!track || track.kind !== Track.Kind.Audio || !element) {
        throw new Error(`harness: no subscribed remote audio track ${trackSid}`);
      }
      const ctx = audioContext();
      await ctx.resume();
      let entry = state.analysers.get(trackSid);
      if (!entry) {
        const source = ctx.createMediaStreamSource(new MediaStream([track.mediaStreamTrack]));
        const analyser = ctx.createAnalyser();
        analyser.fftSize = 8192;
        analyser.smoothingTimeConstant = 0;
        source.connect(analyser);
        entry = { source, analyser };
        state.analysers.set(trackSid, entry);
        // let the analyser's window fill with the stream
        await sleep((analyser.fftSize / ctx.sampleRate) * 1000 + 50);
      }
      const { analyser } = entry;
      const bins = analyser.frequencyBinCount;
      const power = new Float64Array(bins);
      const spectrum = new Float32Array(bins);
      const samples = new Float32Array(analyser.fftSize);
      const durationMs = opts.durationMs ?? 500;
      const snapshots = Math.max(1, Math.round(durationMs / 100));
      let sumSquares = 0;
      let count = 0;
      let peakAbs = 0;
      for (let i = 0; i < snapshots; i += 1) {
        if (i > 0) await sleep(durationMs / snapshots);
        analyser.getFloatFrequencyData(spectrum);
        for (let b = 0; b < bins; b += 1) {
          if (Number.isFinite(spectrum[b])) power[b] += 10 ** (spectrum[b] / 10);
        }
        analyser.getFloatTimeDomainData(samples);
        for (const s of samples) {
          sumSquares += s * s;
          peakAbs = Math.max(peakAbs, Math.abs(s));
        }
        count += samples.length;
      }
      let best = 1;
      for (let b = 2; b < bins - 1; b += 1) if (power[b] > power[best]) best = b;
      // parabolic interpolation on the log spectrum around the peak bin
      const l = 10 * Math.log10(power[best - 1] + 1e-30);
      const c = 10 * Math.log10(power[best] + 1e-30);
      const r = 10 * Math.log10(power[best + 1] + 1e-30);
      const denom = l - 2 * c + r;
      const offset = denom !== 0 ? 0.5 * (l - r) / denom : 0;
      const binHz = ctx.sampleRate / analyser.fftSize;
      return {
        frequencyHz: (best + offset) * binHz,
        rms: Math.sqrt(sumSquares / Math.max(1, count)),
        peak: peakAbs,
        peakDb: c - 10 * Math.log10(snapshots),
        binHz,
        sampleRate: ctx.sampleRate,
        snapshots,
      };
    },

    // What the local senders are sending: per-encoding (simulcast layer) stats for video.
    async stats() {
      const room = requireRoom();
      const out = [];
      for (const pub of room.localParticipant.trackPublications.values()) {
        const track = pub.track;
        if (!track) continue;
        const entry = {
          trackSid: pub.trackSid, source: pub.source, kind: pub.kind, muted: pub.isMuted,
          simulcasted: pub.simulcasted ?? null, layers: [], outbound: [],
        };
        const sender = await track.getSenderStats();
        if (pub.kind === Track.Kind.Video) {
          entry.layers = (sender ?? []).map((s) => ({
            rid: s.rid ?? null, frameWidth: s.frameWidth ?? 0, frameHeight: s.frameHeight ?? 0,
            framesSent: s.framesSent ?? 0, framesPerSecond: s.framesPerSecond ?? 0,
            bytesSent: s.bytesSent ?? 0, packetsSent: s.packetsSent ?? 0,
            targetBitrate: s.targetBitrate ?? 0, pliCount: s.pliCount ?? 0,
            firCount: s.firCount ?? 0, nackCount: s.nackCount ?? 0,
            qualityLimitationReason: s.qualityLimitationReason ?? null,
          }));
        } else if (sender) {
          entry.audio = describe(sender);
        }
        const report = await track.getRTCStatsReport();
        entry.availableOutgoingBitrate = null;
        report?.forEach((r) => {
          if (r.type === 'candidate-pair' && r.nominated && r.availableOutgoingBitrate) {
            entry.availableOutgoingBitrate = r.availableOutgoingBitrate;
          }
          if (r.type !== 'outbound-rtp') return;
          entry.outbound.push({
            rid: r.rid ?? null, ssrc: r.ssrc, active: r.active ?? null, mid: r.mid ?? null,
            frameWidth: r.frameWidth ?? 0, frameHeight: r.frameHeight ?? 0,
            framesSent: r.framesSent ?? 0, framesEncoded: r.framesEncoded ?? 0,
            framesPerSecond: r.framesPerSecond ?? 0, bytesSent: r.bytesSent ?? 0,
            packetsSent: r.packetsSent ?? 0, keyFramesEncoded: r.keyFramesEncoded ?? 0,
            encoderImplementation: r.encoderImplementation ?? null,
            scalabilityMode: r.scalabilityMode ?? null,
            qualityLimitationReason: r.qualityLimitationReason ?? null,
          });
        });
        out.push(entry);
      }
      return out;
    },

    // What the remote tracks deliver: inbound-rtp stats of each subscribed remote track.
    async remoteStats() {
      const room = requireRoom();
      const out = [];
      for (const participant of room.remoteParticipants.values()) {
        for (const pub of participant.trackPublications.values()) {
          const track = pub.track;
          if (!track) continue;
          const entry = {
            participantIdentity: participant.identity, trackSid: pub.trackSid,
            source: pub.source, kind: pub.kind, inbound: [],
          };
          const report = await track.getRTCStatsReport();
          report?.forEach((r) => {
            if (r.type !== 'inbound-rtp') return;
            entry.inbound.push({
              ssrc: r.ssrc, mid: r.mid ?? null, packetsReceived: r.packetsReceived ?? 0,
              packetsLost: r.packetsLost ?? 0, bytesReceived: r.bytesReceived ?? 0,
              framesDecoded: r.framesDecoded ?? 0, framesReceived: r.framesReceived ?? 0,
              framesDropped: r.framesDropped ?? 0, frameWidth: r.frameWidth ?? 0,
              frameHeight: r.frameHeight ?? 0, keyFramesDecoded: r.keyFramesDecoded ?? 0,
              pliCount: r.pliCount ?? 0, firCount: r.firCount ?? 0, nackCount: r.nackCount ?? 0,
              jitter: r.jitter ?? null, totalSamplesReceived: r.totalSamplesReceived ?? 0,
              concealedSamples: r.concealedSamples ?? 0, audioLevel: r.audioLevel ?? null,
              decoderImplementation: r.decoderImplementation ?? null,
            });
          });
          out.push(entry);
        }
      }
      return out;
    },

    // The local pattern renderer on its own (no room): pixels of one rendered frame.
    async renderPatternForTest(width, height, counter, timestampMs) {
      const canvas = document.createElement('canvas');
      canvas.width = width;
      canvas.height = height;
      const ctx = canvas.getContext('2d', { willReadFrequently: true });
      const renderer = drawPattern(ctx, width, height, counter, timestampMs);
      const pixels = ctx.getImageData(0, 0, width, height).data;
      return { width, height, renderer, rgbaBase64: bytesToBase64(new Uint8Array(pixels.buffer)) };
    },
  };

  window.harness = harness;
  window.harnessReady = true;
})();
