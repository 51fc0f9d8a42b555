"""The public plugin API: what every dataset, cache, transform, model and trainer plugin implements.

Built-in plugins use exactly this module, as a third-party package would. A plugin is a class with a
``Config`` attribute: a pydantic model (subclass of :class:`PluginConfig`) whose ``type`` field is
``Literal["<registered name>"]``. The framework validates the spec section against ``Config`` and
constructs the plugin with it.
"""

from asc_bench.api.cache import Cache, CacheEntry, CacheRequest, ClearResult, ClipStore
from asc_bench.api.config import NOT_SEMANTIC, Domain, PluginConfig, SplitName, non_semantic
from asc_bench.api.dataset import ClipTable, Dataset, Finding
from asc_bench.api.logits import LogitsFile, load_logits, logits_for_clips, save_logits
from asc_bench.api.model import Model
from asc_bench.api.teacher import TeacherSource, teacher_fields
from asc_bench.api.trainer import Trainer, TrainerConfig
from asc_bench.api.transform import Batch, Transform, TransformContext
from asc_bench.core.errors import UserError
from asc_bench.core.files import atomic_folder, atomic_path, atomic_write_bytes, atomic_write_text
from asc_bench.core.process import process_alive
from asc_bench.core.strict import StrictModel
from asc_bench.core.text import natural_key

__all__ = [
    "NOT_SEMANTIC",
    "Batch",
    "Cache",
    "CacheEntry",
    "CacheRequest",
    "ClearResult",
    "ClipStore",
    "ClipTable",
    "Dataset",
    "Domain",
    "Finding",
    "LogitsFile",
    "Model",
    "PluginConfig",
    "SplitName",
    "StrictModel",
    "TeacherSource",
    "Trainer",
    "TrainerConfig",
    "Transform",
    "TransformContext",
    "UserError",
    "atomic_folder",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "load_logits",
    "logits_for_clips",
    "natural_key",
    "non_semantic",
    "process_alive",
    "save_logits",
    "teacher_fields",
]
