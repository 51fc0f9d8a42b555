"""A synthetic acoustic-scene dataset written in the exact TAU Urban Acoustic Scenes 2022 Mobile layout.

Tests, the quickstart and benchmarks use it instead of the 30 GB real set, through the real ``tau22``
loading code (docs/dcase.md §1): ``audio/<scene>-<city>-<location>-<segment>-<piece>-<device>.wav`` (1-s mono
44.1 kHz 24-bit PCM, ten continuous pieces per 10-s recording), a tab-separated ``meta.csv``,
``evaluation_setup/fold1_{train,evaluate}.csv`` split by recording location, and the nested 2024 subsets under
``split_setup/``.

The audio is learnable but not trivially so: each scene class has its own noise colour, spectral bumps, an
amplitude-modulated band, tonal components and transient events, all jittered per recording and sometimes
mixed with a quieter component of another class; each city adds its own background and room; each device
applies its own frequency response, level, self-noise and (for some) compression. Devices s4–s6 are more
extreme and appear only in the test split, so accuracy drops on them as it does on the real data.

Size is set by ``cities``, ``locations_per_pair``, ``segments_per_location``, ``parallel_fraction`` and
``devices_per_parallel``. Every 10-s segment is recorded by device ``a``; a ``parallel_fraction`` of them is
also recorded by ``devices_per_parallel`` of the other eight devices (balanced over devices and classes).
The test split holds only the parallel segments of test locations (all their devices), as in the real set.

- default (10 cities, 1 location per scene and city, 1 segment, all parallel, 2 extra devices):
  100 segments, 300 recordings, **3,000 clips** (1,580 train, 900 test, 520 in neither), about 400 MB.
- full TAU22 size: ``locations_per_pair=12, segments_per_location=12, parallel_fraction=0.075,
  devices_per_parallel=8`` → 14,400 segments recorded by ``a`` + 1,080 parallel segments × 8 devices =
  23,040 recordings = **230,400 clips** (138,600 train, 29,160 test; the real set has 230,350 clips:
  five recordings are missing there), about 30 GB.
- :func:`synthetic_dataset_size` gives the counts for any parameters without writing anything.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from asc_bench.api import UserError
from asc_bench_plugins.datasets.tau22.irs import IR_FOLDER, write_synthetic_impulse_responses
from asc_bench_plugins.datasets.tau22.vocabulary import CITIES, DEVICES, SCENES, TRAIN_DEVICES

OTHER_DEVICES: tuple[str, ...] = DEVICES[1:]
SUBSET_PERCENTS: tuple[int, ...] = (5, 10, 25, 50, 100)

SAMPLE_RATE = 44100
PIECES = 10
SEGMENT_SAMPLES = SAMPLE_RATE * PIECES
TEST_FRACTION = 0.3
MARKER = ".asc-bench-synthetic.json"
GENERATOR_VERSION = 1

_META_HEADER = "filename\tscene_label\tidentifier\tsource_label\n"
_SPLIT_HEADER = "filename\tscene_label\n"


# --------------------------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class _Segment:
    """One 10-s segment of scene audio and the devices that record it."""

    scene: int
    city: int
    location: int  # numeric location id, as in the file name
    segment: int  # numeric segment id, as in the file name
    test: bool  # its location is on the test side
    parallel: bool  # also recorded by devices other than a
    devices: tuple[str, ...]
    key: tuple[int, ...]  # seed entropy: (scene, city, location index, segment index)

    def filename(self, piece: int, device: str) -> str:
        scene, city = SCENES[self.scene], CITIES[self.city]
        return f"audio/{scene}-{city}-{self.location}-{self.segment}-{piece}-{device}.wav"


@dataclass(frozen=True)
class SynthParams:
    """Everything that determines the written files (not the worker count)."""

    seed: int = 0
    cities: int = 10
    locations_per_pair: int = 1
    segments_per_location: int = 1
    parallel_fraction: float = 1.0
    devices_per_parallel: int = 2


def _check_params(p: SynthParams) -> None:
    def bad(field: str, value: Any, expected: str) -> UserError:
        return UserError(
            f"the synthetic dataset parameter {field}={value!r} is invalid: expected {expected}.",
            fix=f"Pass a valid {field}.",
        )

    if not 1 <= p.cities <= len(CITIES):
        raise bad("cities", p.cities, f"an integer from 1 to {len(CITIES)}")
    if p.locations_per_pair < 1:
        raise bad("locations_per_pair", p.locations_per_pair, "an integer of at least 1")
    if p.cities * p.locations_per_pair < 2:
        raise bad(
            "locations_per_pair",
            p.locations_per_pair,
            "at least 2 recording locations per scene (cities × locations_per_pair ≥ 2) so that every "
            "scene appears in both the train and the test split",
        )
    if p.segments_per_location < 1:
        raise bad("segments_per_location", p.segments_per_location, "an integer of at least 1")
    if not 0.0 < p.parallel_fraction <= 1.0:
        raise bad("parallel_fraction", p.parallel_fraction, "a number in (0, 1]")
    if not 1 <= p.devices_per_parallel <= len(OTHER_DEVICES):
        raise bad("devices_per_parallel", p.devices_per_parallel, f"an integer from 1 to {len(OTHER_DEVICES)}")


def _test_locations(p: SynthParams) -> set[tuple[int, int, int]]:
    """(scene, city, location index) triples on the test side: about 30 % of each scene's locations.

    For each scene the locations are ranked location index first, then city rotated by the scene, so every
    scene has test and train locations, each city is on the test side for some scenes, and with several
    locations per pair every city contributes test locations to every scene.
    """
    per_scene = p.cities * p.locations_per_pair
    n_test = min(max(1, round(TEST_FRACTION * per_scene)), per_scene - 1)
    chosen = set()
    for s in range(len(SCENES)):
        for c in range(p.cities):
            for j in range(p.locations_per_pair):
                if j * p.cities + (c - s) % p.cities < n_test:
                    chosen.add((s, c, j))
    return chosen


def _plan(p: SynthParams) -> list[_Segment]:
    """The segments to render, in a fixed order, with their side and recording devices."""
    rng = np.random.default_rng(np.random.SeedSequence([p.seed, 0x5EED]))
    test_locs = _test_locations(p)
    raw = []  # (scene, city, j, k, location id, test)
    for s in range(len(SCENES)):
        for c in range(p.cities):
            for j in range(p.locations_per_pair):
                loc_id = 1000 + (s * p.cities + c) * p.locations_per_pair + j
                for k in range(p.segments_per_location):
                    raw.append((s, c, j, k, loc_id, (s, c, j) in test_locs))
    # Parallel segments: a fraction of each side, first segments first, scenes interleaved (so every class
    # gets its share), locations in a seeded order within each scene. Each takes the devices least used so
    # far on its side, ties broken at random, so that devices are balanced and not tied to scenes.
    position = {}
    for side in (True, False):
        for s in range(len(SCENES)):
            locs = sorted({r[4] for r in raw if r[0] == s and r[5] == side})
            for pos, i in enumerate(rng.permutation(len(locs))):
                position[locs[i]] = pos
    devices: dict[int, tuple[str, ...]] = {}
    for side in (True, False):
        idx = [i for i, r in enumerate(raw) if r[5] == side]
        idx.sort(key=lambda i: (raw[i][3], position[raw[i][4]], raw[i][0]))
        n_parallel = max(1, round(p.parallel_fraction * len(idx)))
        used = np.zeros(len(OTHER_DEVICES), dtype=np.int64)
        for i in idx[:n_parallel]:
            tie = rng.random(len(OTHER_DEVICES))
            chosen = np.lexsort((tie, used))[: p.devices_per_parallel]
            used[chosen] += 1
            devices[i] = ("a", *(OTHER_DEVICES[d] for d in sorted(chosen)))
    return [
        _Segment(
            scene=s,
            city=c,
            location=loc_id,
            segment=40000 + 10000 * k,
            test=test,
            parallel=i in devices,
            devices=devices.get(i, ("a",)),
            key=(s, c, j, k),
        )
        for i, (s, c, j, k, loc_id, test) in enumerate(raw)
    ]


# --------------------------------------------------------------------------------------------- the sound

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


def _render_scene(seed: int, seg: _Segment) -> np.ndarray:
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


def _record(seed: int, seg: _Segment, spectrum: np.ndarray, device: str, response: np.ndarray) -> np.ndarray:
    """The segment as ``device`` records it: response, self-noise, compression."""
    d = _DEVICE_SOUND[device]
    rng = np.random.default_rng(np.random.SeedSequence([seed, *seg.key, 1 + DEVICES.index(device)]))
    y = np.fft.irfft(spectrum * response, n=SEGMENT_SAMPLES)
    y += _db(d["noise"]) * rng.standard_normal(SEGMENT_SAMPLES, dtype=np.float32)
    if d["drive"] > 0:
        drive = d["drive"] * 4.0
        y = np.tanh(drive * y) / drive
    return np.clip(y, -0.999, 0.999)


def _render_chunk(seed: int, segments: Sequence[_Segment], out_dir: str) -> int:
    """Render and write every recording of ``segments``; returns the number of clips written."""
    import soundfile as sf

    responses: dict[str, np.ndarray] = {}
    written = 0
    for seg in segments:
        spectrum = _render_scene(seed, seg)
        for device in seg.devices:
            if device not in responses:
                responses[device] = _device_response(device)
            y = _record(seed, seg, spectrum, device, responses[device])
            for piece in range(PIECES):
                path = os.path.join(out_dir, seg.filename(piece, device))
                sf.write(path, y[piece * SAMPLE_RATE : (piece + 1) * SAMPLE_RATE], SAMPLE_RATE, subtype="PCM_24")
                written += 1
    return written


# --------------------------------------------------------------------------------------------- the files


def _subset_order(seed: int, recordings: list[tuple[str, int]]) -> list[str]:
    """Train recordings in a class-stratified seeded order: every prefix holds each class proportionally."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x2024]))
    by_class: dict[int, list[str]] = {}
    for rec, label in sorted(recordings):
        by_class.setdefault(label, []).append(rec)
    keyed = []
    for label, recs in sorted(by_class.items()):
        perm = rng.permutation(len(recs))
        for pos, i in enumerate(perm):
            keyed.append(((pos + 0.5) / len(recs), label, recs[i]))
    return [rec for _, _, rec in sorted(keyed)]


def _tables(p: SynthParams, plan: list[_Segment]) -> dict[str, list[tuple[str, ...]]]:
    """The rows of every table, by path relative to the root (unsorted)."""
    meta: list[tuple[str, ...]] = []
    train: list[tuple[str, ...]] = []
    test: list[tuple[str, ...]] = []
    train_recordings: list[tuple[str, int]] = []
    for seg in plan:
        scene, city = SCENES[seg.scene], CITIES[seg.city]
        for device in seg.devices:
            names = [seg.filename(piece, device) for piece in range(PIECES)]
            meta += [(n, scene, f"{city}-{seg.location}", device) for n in names]
            if seg.test and seg.parallel:
                test += [(n, scene) for n in names]
            elif not seg.test and device in TRAIN_DEVICES:
                train += [(n, scene) for n in names]
                train_recordings.append((f"{scene}-{city}-{seg.location}-{seg.segment}-{device}", seg.scene))
    tables = {
        "meta.csv": meta,
        "evaluation_setup/fold1_train.csv": train,
        "evaluation_setup/fold1_evaluate.csv": test,
        "split_setup/test.csv": test,
    }
    order = _subset_order(p.seed, train_recordings)
    for pct in SUBSET_PERCENTS:
        n = len(order) if pct == 100 else max(1, round(pct / 100 * len(order)))
        keep = set(order[:n])
        tables[f"split_setup/split{pct}.csv"] = [r for r in train if _recording_of(r[0]) in keep]
    return tables


def _counts(tables: dict[str, list[tuple[str, ...]]]) -> dict[str, int]:
    clips, train, test = (
        len(tables[k]) for k in ("meta.csv", "evaluation_setup/fold1_train.csv", "evaluation_setup/fold1_evaluate.csv")
    )
    counts = {
        "clips": clips,
        "train": train,
        "test": test,
        "unused": clips - train - test,
        "recordings": clips // PIECES,
    }
    counts.update({f"split{pct}": len(tables[f"split_setup/split{pct}.csv"]) for pct in SUBSET_PERCENTS})
    return counts


def _write_tables(root: Path, tables: dict[str, list[tuple[str, ...]]]) -> None:
    for rel, rows in tables.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        header = _META_HEADER if rel == "meta.csv" else _SPLIT_HEADER
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(header)
            f.writelines("\t".join(r) + "\n" for r in sorted(rows))


def synthetic_dataset_size(
    *,
    seed: int = 0,
    cities: int = 10,
    locations_per_pair: int = 1,
    segments_per_location: int = 1,
    parallel_fraction: float = 1.0,
    devices_per_parallel: int = 2,
) -> dict[str, int]:
    """The clip counts :func:`write_synthetic_dataset` would write with these parameters (nothing written).

    Keys: ``clips``, ``train``, ``test``, ``unused`` (in neither split), ``recordings``, ``split5`` …
    ``split100``. Each clip is about 132 kB on disk.
    """
    params = SynthParams(
        seed,
        cities,
        locations_per_pair,
        segments_per_location,
        float(parallel_fraction),
        devices_per_parallel,
    )
    _check_params(params)
    return _counts(_tables(params, _plan(params)))


def _recording_of(filename: str) -> str:
    parts = filename[len("audio/") : -len(".wav")].split("-")
    return "-".join(parts[:4] + parts[5:])


def _read_marker(root: Path) -> dict[str, Any] | None:
    try:
        return json.loads((root / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _remove_abandoned_partials(root: Path) -> None:
    """Delete half-written folders of earlier runs for this root whose process is gone (e.g. killed)."""
    for partial in root.parent.glob(f".{root.name}.partial-*-*"):
        pid = partial.name[len(f".{root.name}.partial-") :].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(partial, ignore_errors=True)
        except OSError:
            pass  # alive but not ours: leave it


def write_synthetic_dataset(
    root: Path | str,
    *,
    seed: int = 0,
    cities: int = 10,
    locations_per_pair: int = 1,
    segments_per_location: int = 1,
    parallel_fraction: float = 1.0,
    devices_per_parallel: int = 2,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Write a synthetic dataset in the TAU22 development layout at ``root``; return what was done.

    ``cities``: how many of the ten development cities (alphabetical) to use. ``locations_per_pair``:
    recording locations per (scene, city). ``segments_per_location``: 10-s segments per location, all
    recorded by device a. ``parallel_fraction`` of the segments (on each side of the split) are also
    recorded by ``devices_per_parallel`` of the other eight devices. See the module docstring for the
    default size (3,000 clips) and the parameters that give the full TAU22 size (230,400 clips).

    The output is byte-identical for the same parameters, whatever ``workers`` (process count; default:
    the CPU count, at most 8; worker processes are spawned, so a calling script needs the usual
    ``if __name__ == "__main__":`` guard). It is built in a temporary folder next to ``root`` and renamed
    into place at the end, so an interrupted run never leaves a root that looks complete. If ``root``
    already holds a synthetic dataset made with the same parameters, nothing is written (``created`` is
    False); a ``root`` with any other content is a :class:`UserError`. ``progress(clips_written,
    clips_total)`` is called as it goes (from the calling process).

    Returns a dict: ``root``, ``created``, ``message``, ``seconds``, ``params`` and the counts ``clips``,
    ``train``, ``test``, ``unused`` (in neither split), ``recordings`` and ``split5`` … ``split100``.
    """
    start = time.perf_counter()
    root = Path(root).expanduser().absolute()
    params = SynthParams(
        seed,
        cities,
        locations_per_pair,
        segments_per_location,
        float(parallel_fraction),
        devices_per_parallel,
    )
    _check_params(params)
    wanted = {"generator": "asc-bench synth", "version": GENERATOR_VERSION, "params": asdict(params)}

    if root.exists():
        if not root.is_dir():
            raise UserError(
                f"cannot write the synthetic dataset to {root}: it exists and is a file, not a folder.",
                fix="Choose a new folder name (it will be created).",
            )
        marker = _read_marker(root)
        if marker is not None and {k: marker.get(k) for k in wanted} == wanted:
            write_synthetic_impulse_responses(root / IR_FOLDER, seed=seed)  # sets written before they shipped
            return {
                "root": str(root),
                "created": False,
                "seconds": time.perf_counter() - start,
                "params": asdict(params),
                **marker.get("counts", {}),
                "message": f"{root} already holds this synthetic dataset (same parameters); nothing written.",
            }
        if marker is not None:
            raise UserError(
                f"{root} already holds a synthetic dataset made with other parameters "
                f"({marker.get('params')}, generator version {marker.get('version')}); asked for "
                f"{asdict(params)}, version {GENERATOR_VERSION}.",
                fix="Delete that folder first, or write to another folder.",
            )
        if any(root.iterdir()):
            raise UserError(
                f"cannot write the synthetic dataset to {root}: the folder exists and is not empty, and it "
                "is not a synthetic dataset written by asc-bench.",
                fix="Choose a new (or empty) folder; asc-bench never overwrites other files.",
            )

    plan = _plan(params)
    root.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_partials(root)
    tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}.partial-{os.getpid()}-", dir=root.parent))
    try:
        (tmp / "audio").mkdir()
        tables = _tables(params, plan)
        counts = _counts(tables)
        _write_tables(tmp, tables)
        write_synthetic_impulse_responses(tmp / IR_FOLDER, seed=seed)  # for the `dir` transform
        total = counts["clips"]
        n_workers = max(1, min(workers or os.cpu_count() or 1, 8))
        chunks = [plan[i : i + 4] for i in range(0, len(plan), 4)]
        done = 0
        if progress:
            progress(0, total)
        if n_workers == 1 or len(chunks) < 2:
            for chunk in chunks:
                done += _render_chunk(params.seed, chunk, str(tmp))
                if progress:
                    progress(done, total)
        else:
            # spawn: safe even when the caller has torch (and its threads) loaded
            with ProcessPoolExecutor(n_workers, mp_context=get_context("spawn")) as pool:
                futures = [pool.submit(_render_chunk, params.seed, chunk, str(tmp)) for chunk in chunks]
                for fut in futures:
                    done += fut.result()
                    if progress:
                        progress(done, total)
        if done != total:  # pragma: no cover - a bug, not a user error
            raise RuntimeError(f"synthetic dataset: wrote {done} clips, planned {total}")
        marker = {**wanted, "counts": counts}
        (tmp / MARKER).write_text(json.dumps(marker, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        if root.exists():
            root.rmdir()  # empty (checked above)
        os.replace(tmp, root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    seconds = time.perf_counter() - start
    return {
        "root": str(root),
        "created": True,
        "seconds": seconds,
        "params": asdict(params),
        **counts,
        "message": f"wrote {counts['clips']:,} clips ({counts['train']:,} train, {counts['test']:,} test) "
        f"to {root} in {seconds:.1f} s",
    }


def params_for_clips(clips: int) -> dict[str, int]:
    """Generator parameters for at least ``clips`` clips (at the default layout: 300 clips per city,
    3,000 per segment of every location), for ``asc-bench data synth --clips N``."""
    if clips <= 0:
        raise UserError(f"--clips must be positive, not {clips}.", fix="Use e.g. --clips 3000.")
    full = synthetic_dataset_size()["clips"]
    per_city = full // len(CITIES)
    if clips <= full:
        return {"cities": max(2, -(-clips // per_city))}
    return {"segments_per_location": -(-clips // full)}
