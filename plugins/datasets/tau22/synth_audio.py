"""The sound of the synthetic TAU22-layout dataset: scene classes, cities and devices as signal models.

Each scene class has its own noise colour, spectral bumps, an amplitude-modulated band, tonal components and
transient events, all jittered per recording and sometimes mixed with a quieter component of another class;
each city adds its own background and room; each device applies its own frequency response, level, self-noise
and (for some) compression. Devices s4–s6 are more extreme and appear only in the test split, so accuracy
drops on them as it does on the real data. Every recording is deterministic in the seed and its segment's key.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from asc_bench_plugins.datasets.tau22.synth_plan import PIECES, Segment
from asc_bench_plugins.datasets.tau22.vocabulary import CITIES, DEVICES, SCENES

SAMPLE_RATE = 44100
SEGMENT_SAMPLES = SAMPLE_RATE * PIECES

# Per scene: noise tilt (dB/octave re 1 kHz); spectral bumps (Hz, octaves, dB); a modulated band
# (low Hz, high Hz, dB, AM rate Hz, AM depth); tones (Hz, harmonics, dB, glide octaves); tone duty cycle;
# events (per second, Hz, seconds, dB); reverberation time (s).
# fmt: off
_SCENE_SOUND: dict[str, dict[str, Any]] = {
    "airport": dict(tilt=-4.0, bumps=[(250, 1.5, 6)], band=(500, 4000, -8, 0.4, 0.5),
                    tones=[(660, 1, -16, 0.0), (880, 1, -18, 0.0)], duty=0.3,
                    events=(0.3, 2000, 0.08, -10), rt=0.9),
    "bus": dict(tilt=-7.0, bumps=[(120, 1.0, 10)], band=(300, 2500, -14, 1.2, 0.4),
                tones=[(95, 6, -8, 0.05)], duty=1.0, events=(0.2, 800, 0.1, -8), rt=0.2),
    "metro": dict(tilt=-6.0, bumps=[(80, 1.2, 12), (3200, 0.4, 6)], band=(1000, 6000, -10, 2.0, 0.7),
                  tones=[(3100, 2, -14, 0.1)], duty=0.4, events=(2.0, 400, 0.04, -6), rt=0.3),
    "metro_station": dict(tilt=-4.0, bumps=[(150, 1.2, 6), (3200, 0.4, 3)], band=(300, 3000, -8, 3.5, 0.5),
                          tones=[(3100, 2, -20, 0.1)], duty=0.2, events=(0.5, 1500, 0.05, -10), rt=1.2),
    "park": dict(tilt=-1.5, bumps=[(6000, 1.0, 6)], band=(2000, 8000, -12, 0.15, 0.6),
                 tones=[(4200, 1, -12, 0.3), (5300, 1, -14, 0.3)], duty=0.25,
                 events=(1.5, 4500, 0.03, -8), rt=0.05),
    "public_square": dict(tilt=-3.0, bumps=[(800, 1.5, 5)], band=(300, 3000, -4, 4.0, 0.6),
                          tones=[], duty=0.0, events=(0.8, 1200, 0.06, -12), rt=0.4),
    "shopping_mall": dict(tilt=-3.5, bumps=[(500, 1.5, 5)], band=(300, 3000, -6, 3.0, 0.4),
                          tones=[(261.6, 3, -14, 0.0), (329.6, 3, -16, 0.0), (392.0, 3, -16, 0.0)],
                          duty=0.8, events=(0.3, 3000, 0.05, -14), rt=1.0),
    "street_pedestrian": dict(tilt=-3.0, bumps=[(1000, 1.5, 4)], band=(300, 3000, -6, 2.0, 0.6),
                              tones=[], duty=0.0, events=(2.0, 600, 0.03, -6), rt=0.15),
    "street_traffic": dict(tilt=-5.0, bumps=[(400, 2.0, 8)], band=(100, 2000, -2, 0.12, 0.8),
                           tones=[(120, 3, -18, 0.2)], duty=0.5, events=(0.2, 3000, 0.2, -14), rt=0.1),
    "tram": dict(tilt=-5.0, bumps=[(200, 1.2, 8), (1500, 0.3, 6)], band=(800, 4000, -10, 0.8, 0.5),
                 tones=[(1450, 2, -12, 0.25)], duty=0.6, events=(0.15, 1000, 0.3, -10), rt=0.25),
}
# fmt: on

# Per city: background tilt (dB/octave), background level (dB re scene), a low hum (Hz), room time (s), wet.
_CITY_SOUND: dict[str, tuple[float, float, float, float, float]] = {
    "barcelona": (-3.0, -14.0, 60.0, 0.15, 0.10),
    "helsinki": (-6.0, -18.0, 75.0, 0.40, 0.20),
    "lisbon": (-2.0, -12.0, 90.0, 0.10, 0.15),
    "london": (-5.0, -10.0, 50.0, 0.30, 0.25),
    "lyon": (-4.0, -16.0, 110.0, 0.20, 0.10),
    "milan": (-1.5, -15.0, 65.0, 0.50, 0.20),
    "paris": (-4.5, -11.0, 55.0, 0.25, 0.30),
    "prague": (-3.5, -17.0, 85.0, 0.35, 0.15),
    "stockholm": (-6.5, -13.0, 100.0, 0.20, 0.20),
    "vienna": (-2.5, -19.0, 70.0, 0.45, 0.25),
}

# Per device: high-pass (Hz, order), low-pass (Hz, order), peaks (Hz, octaves, dB), tilt (dB/octave),
# gain (dB), self-noise (dBFS RMS), compression drive (0 = none).
# fmt: off
_DEVICE_SOUND: dict[str, dict[str, Any]] = {
    "a": dict(hp=(20, 2), lp=(19000, 4), peaks=[], tilt=0.0, gain=0.0, noise=-90.0, drive=0.0),
    "b": dict(hp=(150, 2), lp=(11000, 6), peaks=[(2500, 0.5, 5), (700, 1.0, -3)], tilt=0.0, gain=-2.0,
              noise=-75.0, drive=0.0),
    "c": dict(hp=(300, 3), lp=(8000, 6), peaks=[(1200, 0.6, 4), (4500, 0.4, 6)], tilt=0.0, gain=3.0,
              noise=-70.0, drive=2.0),
    "s1": dict(hp=(100, 2), lp=(14000, 4), peaks=[(3500, 0.8, 4)], tilt=0.0, gain=1.0, noise=-80.0,
               drive=0.0),
    "s2": dict(hp=(250, 2), lp=(9000, 5), peaks=[(900, 0.5, 5)], tilt=0.0, gain=-1.0, noise=-78.0,
               drive=1.5),
    "s3": dict(hp=(80, 1), lp=(12000, 3), peaks=[(6000, 0.5, -6)], tilt=1.0, gain=0.0, noise=-76.0,
               drive=0.0),
    "s4": dict(hp=(400, 3), lp=(7000, 4), peaks=[(2000, 0.3, 8)], tilt=0.0, gain=4.0, noise=-65.0,
               drive=0.0),
    "s5": dict(hp=(200, 2), lp=(16000, 2), peaks=[(300, 0.7, 6)], tilt=-1.5, gain=-3.0, noise=-72.0,
               drive=2.0),
    "s6": dict(hp=(400, 3), lp=(7000, 4), peaks=[(1500, 0.6, 6), (3500, 0.6, 4)], tilt=0.0, gain=2.0,
               noise=-62.0, drive=0.0),
}
# fmt: on

_FREQS = np.fft.rfftfreq(SEGMENT_SAMPLES, 1.0 / SAMPLE_RATE)
_LOG2F = np.log2(np.maximum(_FREQS, 1.0) / 1000.0)
_T = np.arange(SEGMENT_SAMPLES) / SAMPLE_RATE


def _db(x: float | np.ndarray) -> Any:
    return 10.0 ** (np.asarray(x) / 20.0)


def _bump_db(fc: float, octaves: float, gain_db: float) -> np.ndarray:
    return gain_db * np.exp(-0.5 * ((_LOG2F - np.log2(fc / 1000.0)) / (octaves / 2.0)) ** 2)


def _band(lo: float, hi: float) -> np.ndarray:
    """A smooth band-pass magnitude (4th-order-like edges)."""
    f = np.maximum(_FREQS, 1.0)
    return 1.0 / np.sqrt((1.0 + (lo / f) ** 8) * (1.0 + (f / hi) ** 8))


_AUDIBLE = _band(20.0, 20000.0)


def _noise_spectrum(rng: np.random.Generator, magnitude: np.ndarray) -> np.ndarray:
    """The rfft of Gaussian noise with the given spectral magnitude, scaled to unit RMS."""
    spec = rng.standard_normal((_FREQS.size, 2), dtype=np.float32).view(np.complex64)[:, 0] * magnitude
    return spec / (_rms(spec) + 1e-12)


def _rms(spec: np.ndarray) -> float:
    """RMS of the real signal whose rfft (of length SEGMENT_SAMPLES, even) is ``spec`` (Parseval)."""
    power = spec.real**2 + spec.imag**2
    total = 2.0 * power.sum() - power[0] - power[-1]
    return float(np.sqrt(total) / SEGMENT_SAMPLES)


_CONTROL = 441  # samples per control step (100 Hz): envelopes and pitch curves are made at this rate
_RAMP = np.arange(_CONTROL) / _CONTROL


def _upsample(control: np.ndarray) -> np.ndarray:
    """Linear interpolation of ``SEGMENT_SAMPLES // _CONTROL + 1`` control points to the sample rate."""
    start, step = control[:-1, None], (control[1:] - control[:-1])[:, None]
    return (start + step * _RAMP[None, :]).ravel()


_CONTROL_T = np.arange(SEGMENT_SAMPLES // _CONTROL + 1) * (_CONTROL / SAMPLE_RATE)


def _gate(rng: np.random.Generator, duty: float) -> np.ndarray:
    """A slowly switching on/off envelope (control rate) that is on about ``duty`` of the time."""
    if duty >= 1.0:
        return np.ones(_CONTROL_T.size)
    knots = np.convolve(rng.standard_normal(PIECES * 4 + 8), np.ones(4) / 4, mode="valid")[: PIECES * 4 + 1]
    on = (knots > np.quantile(knots, 1.0 - duty)).astype(float)
    return np.interp(_CONTROL_T, np.linspace(0.0, PIECES, on.size), on)


def _tones(rng: np.random.Generator, tones: Sequence[tuple[float, int, float, float]], duty: float) -> np.ndarray:
    out = np.zeros(SEGMENT_SAMPLES)
    for f0, harmonics, level, glide in tones:
        f0 = f0 * 2.0 ** rng.uniform(-0.1, 0.1)
        # pitch glide (a tram's whine, a bird's chirp): a frequency wobble integrated into the phase
        rate = rng.uniform(0.2, 2.0) if glide < 0.25 else rng.uniform(4.0, 9.0)
        inst = f0 * 2.0 ** (glide * np.sin(2 * np.pi * rate * _CONTROL_T + rng.uniform(0, 2 * np.pi)))
        cycles = np.concatenate([[0.0], np.cumsum(inst[:-1]) * (_CONTROL / SAMPLE_RATE)])
        theta = ((2 * np.pi) * (_upsample(cycles) % 1.0)).astype(np.float32)
        # harmonics h·theta by the Chebyshev recurrence sin((h+1)θ) = 2cosθ·sin(hθ) − sin((h−1)θ)
        sin1, two_cos = np.sin(theta), 2 * np.cos(theta)
        prev, cur, tone = np.zeros_like(theta), sin1, sin1.copy()
        for h in range(2, harmonics + 1):
            if h * f0 >= 18000:
                break
            prev, cur = cur, two_cos * cur - prev
            tone += cur / h
        amplitude = _db(level + rng.uniform(-3, 3)) * np.sqrt(2) * _gate(rng, duty)
        out += _upsample(amplitude) * tone
    return out


def _events(rng: np.random.Generator, rate: float, fc: float, dur: float, level: float) -> np.ndarray:
    out = np.zeros(SEGMENT_SAMPLES)
    count = rng.poisson(rate * PIECES * rng.uniform(0.7, 1.4))
    n = int(dur * 4 * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    for _ in range(count):
        start = int(rng.integers(0, SEGMENT_SAMPLES - n))
        f = fc * 2.0 ** rng.uniform(-0.3, 0.3)
        burst = np.exp(-t / dur) * (np.sin(2 * np.pi * f * t) + 0.5 * rng.standard_normal(n))
        out[start : start + n] += _db(level + 12 + rng.uniform(-6, 3)) * burst
    return out


def _scene_components(rng: np.random.Generator, spec: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """One scene class's sound, jittered for this recording: (noise spectrum, time-domain part).

    The coloured noise stays in the frequency domain (unit RMS); the amplitude-modulated band, the tones
    and the events are made in the time domain.
    """
    tilt = spec["tilt"] + rng.uniform(-1.5, 1.5)
    env_db = tilt * _LOG2F
    for fc, octaves, gain in spec["bumps"]:
        env_db = env_db + _bump_db(fc * 2.0 ** rng.uniform(-0.25, 0.25), octaves, gain + rng.uniform(-3, 3))
    noise = _noise_spectrum(rng, _db(env_db) * _AUDIBLE)
    lo, hi, level, am_rate, am_depth = spec["band"]
    shift = 2.0 ** rng.uniform(-0.2, 0.2)
    band = np.fft.irfft(_noise_spectrum(rng, _band(lo * shift, hi * shift)), n=SEGMENT_SAMPLES)
    rate = am_rate * rng.uniform(0.8, 1.25)
    depth = min(0.95, am_depth * rng.uniform(0.7, 1.3))
    band *= _db(level + rng.uniform(-4, 4)) * (1.0 + depth * np.sin(2 * np.pi * rate * _T + rng.uniform(0, 2 * np.pi)))
    band += _tones(rng, spec["tones"], spec["duty"])
    band += _events(rng, *spec["events"])
    return noise, band


def render_scene(seed: int, seg: Segment) -> np.ndarray:
    """The rfft of one segment's sound in the room, before any device (deterministic in seed and key)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, *seg.key]))
    scene = SCENES[seg.scene]
    noise, timed = _scene_components(rng, _SCENE_SOUND[scene])
    if rng.random() < 0.35:  # a quieter component of another scene, so classes overlap
        other = SCENES[(seg.scene + int(rng.integers(1, len(SCENES)))) % len(SCENES)]
        gain = _db(rng.uniform(-14, -6))
        other_noise, other_timed = _scene_components(rng, _SCENE_SOUND[other])
        noise += gain * other_noise
        timed += gain * other_timed
    tilt, level, hum, room, wet = _CITY_SOUND[CITIES[seg.city]]
    timed += _db(level - 6.0) * np.sin(2 * np.pi * hum * 2.0 ** rng.uniform(-0.05, 0.05) * _T)
    x = noise + np.fft.rfft(timed)
    x /= _rms(x) + 1e-12
    x += _db(level + rng.uniform(-4, 4)) * _noise_spectrum(rng, _db((tilt + rng.uniform(-1, 1)) * _LOG2F) * _AUDIBLE)
    # Room: exponentially decaying noise as impulse response (circular, the segment is stationary).
    rt = (room + _SCENE_SOUND[scene]["rt"]) * rng.uniform(0.8, 1.25)
    n_ir = int(min(rt, 1.5) * SAMPLE_RATE)
    ir = np.zeros(SEGMENT_SAMPLES)
    ir[:n_ir] = rng.standard_normal(n_ir) * np.exp(-6.9 * np.arange(n_ir) / (rt * SAMPLE_RATE))
    ir /= np.sqrt(np.sum(ir * ir)) + 1e-12
    x *= 1.0 + (wet + 0.1 * min(_SCENE_SOUND[scene]["rt"], 1.0)) * np.fft.rfft(ir)
    level_db = rng.uniform(-32.0, -22.0)  # recording level, dBFS RMS
    return x * (_db(level_db) / (_rms(x) + 1e-12))


def _device_response(device: str) -> np.ndarray:
    d = _DEVICE_SOUND[device]
    f = np.maximum(_FREQS, 1.0)
    (hp, hp_order), (lp, lp_order) = d["hp"], d["lp"]
    mag = 1.0 / np.sqrt((1.0 + (hp / f) ** (2 * hp_order)) * (1.0 + (f / lp) ** (2 * lp_order)))
    gain_db = d["gain"] + d["tilt"] * _LOG2F
    for fc, octaves, g in d["peaks"]:
        gain_db = gain_db + _bump_db(fc, octaves, g)
    return mag * _db(gain_db)


def _record(seed: int, seg: Segment, spectrum: np.ndarray, device: str, response: np.ndarray) -> np.ndarray:
    """The segment as ``device`` records it: response, self-noise, compression."""
    d = _DEVICE_SOUND[device]
    rng = np.random.default_rng(np.random.SeedSequence([seed, *seg.key, 1 + DEVICES.index(device)]))
    y = np.fft.irfft(spectrum * response, n=SEGMENT_SAMPLES)
    y += _db(d["noise"]) * rng.standard_normal(SEGMENT_SAMPLES, dtype=np.float32)
    if d["drive"] > 0:
        drive = d["drive"] * 4.0
        y = np.tanh(drive * y) / drive
    return np.clip(y, -0.999, 0.999)


def render_chunk(seed: int, segments: Sequence[Segment], out_dir: str) -> int:
    """Render and write every recording of ``segments``; returns the number of clips written."""
    import soundfile as sf

    responses: dict[str, np.ndarray] = {}
    written = 0
    for seg in segments:
        spectrum = render_scene(seed, seg)
        for device in seg.devices:
            if device not in responses:
                responses[device] = _device_response(device)
            y = _record(seed, seg, spectrum, device, responses[device])
            for piece in range(PIECES):
                path = os.path.join(out_dir, seg.filename(piece, device))
                sf.write(path, y[piece * SAMPLE_RATE : (piece + 1) * SAMPLE_RATE], SAMPLE_RATE, subtype="PCM_24")
                written += 1
    return written
