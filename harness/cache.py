"""The one embedding cache: every MiniLM embedding of the process goes through it.

Two layers:

* **memory**, one row per (model id, text): a text said once in the transcript is encoded once
  per process, however many stages, summaries or runs (a Hydra multirun, repeated
  ``harness.evaluate`` calls, a corpus worker) ask for it;
* **disk**, one ``.npy`` per list of texts under ``<cache_dir>/embeddings/``, named by the sha256
  of the cache format, the kind of text, the model id, the caller's settings key and the texts,
  written atomically; a second process on the same transcript and settings does not encode.

Besides embeddings the cache keeps a few named, bounded *stores* of per-process derived data that
is expensive to recompute and keyed by content (the offline verifier's per-sentence MiniLM
outputs, BERTScore token embeddings, built ``Episode`` records). They live here, in one object,
so that no module keeps state of its own.

Per-text model outputs that are not one row per text (a text's token embeddings) are kept on disk
too, one ``.npz`` per text under ``<cache_dir>/embeddings/<kind>/``, named by the sha256 of the
cache format, the kind, the caller's key (model id, layer…) and the text (``load_arrays`` /
``save_arrays``): a warm run reads them instead of running the model.

The process-wide instance is ``default_cache()``; a caller that wants isolation (a test) passes
its own ``EmbeddingCache``. ``stats`` counts what was encoded and what was reused, and
``python -m harness bench`` prints it.
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import os
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Hashable, Sequence, TypeVar

import numpy as np

from harness.textio import atomic_write_bytes

log = logging.getLogger(__name__)

DEFAULT_CACHE_DIR = "~/.cache/harness"
CACHE_ENV = "HARNESS_CACHE_DIR"
_CACHE_FORMAT = 1  # bump when the cached array layout changes
_EMPTY_DIM = 384  # MiniLM's width: the shape of an empty result

T = TypeVar("T")


def resolve_cache_dir(value: str | os.PathLike[str] | None) -> Path:
    """The cache directory: ``value`` if set, else ``$HARNESS_CACHE_DIR``, else ``~/.cache/harness``."""
    chosen = value if value not in (None, "") else os.environ.get(CACHE_ENV) or DEFAULT_CACHE_DIR
    return Path(os.path.expanduser(str(chosen)))


def encoder_model_id(encoder: Any | None) -> str:
    """The id that keys cached embeddings: ``MINILM_ID`` for the default encoder, else the
    encoder's ``model_id`` attribute or its class name."""
    from harness.models import MINILM_ID

    if encoder is None:
        return MINILM_ID
    return str(getattr(encoder, "model_id", f"{type(encoder).__module__}.{type(encoder).__qualname__}"))


def encode(encoder: Any, texts: Sequence[str], batch_size: int, show_progress: bool = False) -> np.ndarray:
    """``encoder.encode`` of ``texts`` as float32 rows, L2-normalised (no cache)."""
    if not texts:
        return np.zeros((0, _EMPTY_DIM), dtype=np.float32)
    vectors = encoder.encode(
        list(texts),
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=show_progress,
    )
    matrix = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)


@dataclass(frozen=True)
class Embedded:
    """Embeddings of a list of texts and where they came from.

    Attributes:
        matrix: ``(len(texts), dim)`` float32, L2-normalised rows.
        cache_hit: no text had to be encoded (all came from memory or disk).
        cache_path: the disk file (``None`` with the disk cache off).
        model_id: the encoder's id (part of the key).
    """

    matrix: np.ndarray
    cache_hit: bool
    cache_path: str | None
    model_id: str


@dataclass
class CacheStats:
    """What the cache did since it was made (or ``reset``).

    Attributes:
        encoded: texts given to an encoder.
        memory_hits: texts served from memory.
        disk_hits: texts served from a disk file.
        store_hits: lookups answered by a named store.
        store_misses: lookups a named store had to compute.
        encoded_by_kind: ``encoded`` per kind of text (``windows``, ``sentences``…).
        disk_hits_by_kind: ``disk_hits`` per kind of text.
    """

    encoded: int = 0
    memory_hits: int = 0
    disk_hits: int = 0
    store_hits: int = 0
    store_misses: int = 0
    encoded_by_kind: dict[str, int] | None = None
    disk_hits_by_kind: dict[str, int] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "encoded": self.encoded,
            "memory_hits": self.memory_hits,
            "disk_hits": self.disk_hits,
            "store_hits": self.store_hits,
            "store_misses": self.store_misses,
            "encoded_by_kind": dict(sorted((self.encoded_by_kind or {}).items())),
            "disk_hits_by_kind": dict(sorted((self.disk_hits_by_kind or {}).items())),
        }


class Store:
    """A bounded least-recently-used mapping owned by an ``EmbeddingCache`` (see the module doc)."""

    def __init__(self, name: str, max_items: int, stats: CacheStats) -> None:
        self.name = name
        self.max_items = max_items
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._stats = stats

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable) -> Any | None:
        """The value for ``key`` (marked recently used), ``None`` when absent."""
        if key not in self._items:
            return None
        self._items.move_to_end(key)
        return self._items[key]

    def put(self, key: Hashable, value: Any, keep: int = 0) -> None:
        """Store ``value``; evict the least recently used beyond ``max(max_items, keep)``."""
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > max(self.max_items, keep):
            self._items.popitem(last=False)

    def get_or_build(self, key: Hashable, build: Callable[[], T]) -> T:
        """The value for ``key``, built (and stored) on first use."""
        if key in self._items:
            self._stats.store_hits += 1
            self._items.move_to_end(key)
            return self._items[key]
        self._stats.store_misses += 1
        value = build()
        self.put(key, value)
        return value

    def clear(self) -> None:
        self._items.clear()


class EmbeddingCache:
    """Sentence embeddings by (model id, text), in memory and on disk; see the module docstring.

    Args:
        cache_dir: the disk cache folder (``resolve_cache_dir``); a call may name another.
        max_memory_rows: rows kept in memory before the oldest are dropped.
        persist_arrays: keep per-text arrays (``save_arrays``) on disk; off, ``load_arrays``
            finds nothing and ``save_arrays`` writes nothing.
    """

    def __init__(
        self,
        cache_dir: str | os.PathLike[str] | None = None,
        *,
        max_memory_rows: int = 400_000,
        persist_arrays: bool = True,
    ) -> None:
        self.cache_dir = cache_dir
        self.max_memory_rows = max_memory_rows
        self.persist_arrays = persist_arrays
        self.stats = CacheStats(encoded_by_kind={}, disk_hits_by_kind={})
        self._rows: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._stores: dict[str, Store] = {}

    # ---- embeddings ------------------------------------------------------------------------

    def embed(
        self,
        texts: Sequence[str],
        *,
        kind: str,
        encoder: Any | None = None,
        config_key: str | None = None,
        file_prefix: str | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        use_disk: bool = True,
        batch_size: int = 64,
        show_progress: bool = False,
    ) -> Embedded:
        """``(len(texts), dim)`` float32 L2-normalised embeddings of ``texts``.

        Rows already in memory are reused; else the disk file of exactly these texts is read;
        else the texts not in memory are encoded (once each) and, with ``use_disk``, the matrix
        is written.

        Args:
            texts: the texts, in order (duplicates allowed).
            kind: what the texts are (``windows``, ``sentences``, ``coverage-sentences``…); part
                of the disk key and of ``stats.encoded_by_kind``.
            encoder: a ``SentenceTransformer``-like object; the cached MiniLM when ``None``.
            config_key: the caller's settings that shaped the texts (part of the disk key).
            file_prefix: the disk file's name prefix (default ``kind``).
            cache_dir: the disk folder (default: this cache's, see ``resolve_cache_dir``).
            use_disk: read and write the disk file.
            batch_size: texts per encoder batch.
            show_progress: draw the encoder's progress bar on stderr (only when encoding).
        """
        texts = list(texts)
        model_id = encoder_model_id(encoder)
        path = self._path(texts, kind, model_id, config_key, file_prefix, cache_dir) if use_disk else None
        if not texts:
            return Embedded(np.zeros((0, _EMPTY_DIM), dtype=np.float32), True, str(path) if path else None, model_id)
        keys = [(model_id, t) for t in texts]
        if all(k in self._rows for k in keys):
            self.stats.memory_hits += len(keys)
            matrix = self._stack(keys)
            if path is not None and not path.exists():  # another process may start from disk
                self._write(path, matrix)
            return Embedded(matrix, True, str(path) if path else None, model_id)
        if path is not None and path.exists():
            matrix = self._read(path, len(texts))
            if matrix is not None:
                log.info("embedding cache hit: %s (%d %s)", path, len(texts), kind)
                self.stats.disk_hits += len(texts)
                by_disk = self.stats.disk_hits_by_kind if self.stats.disk_hits_by_kind is not None else {}
                by_disk[kind] = by_disk.get(kind, 0) + len(texts)
                self.stats.disk_hits_by_kind = by_disk
                for k, row in zip(keys, matrix):
                    self._remember(k, row)
                return Embedded(matrix, True, str(path), model_id)
        missing = list(dict.fromkeys(t for k, t in zip(keys, texts) if k not in self._rows))
        log.info("embedding cache miss: encoding %d of %d %s with %s", len(missing), len(texts), kind, model_id)
        if encoder is None:
            from harness.models import sentence_encoder

            encoder = sentence_encoder()
        fresh = encode(encoder, missing, batch_size, show_progress)
        self.stats.encoded += len(missing)
        by_kind = self.stats.encoded_by_kind if self.stats.encoded_by_kind is not None else {}
        by_kind[kind] = by_kind.get(kind, 0) + len(missing)
        self.stats.encoded_by_kind = by_kind
        self.stats.memory_hits += sum(1 for k in keys if k in self._rows)
        new_rows = dict(zip(missing, fresh))
        matrix = np.stack([new_rows[t] if t in new_rows else self._rows[k] for k, t in zip(keys, texts)]).astype(
            np.float32, copy=False
        )
        for k, t in zip(keys, texts):
            if t in new_rows:
                self._remember(k, new_rows[t])
        if path is not None:
            self._write(path, matrix)
        return Embedded(matrix, False, str(path) if path else None, model_id)

    def _path(
        self,
        texts: Sequence[str],
        kind: str,
        model_id: str,
        config_key: str | None,
        file_prefix: str | None,
        cache_dir: str | os.PathLike[str] | None,
    ) -> Path:
        digest = hashlib.sha256()
        parts = [f"format={_CACHE_FORMAT}", kind, model_id]
        if config_key is not None:
            parts.append(config_key)
        parts.append(str(len(texts)))
        for part in parts:
            digest.update(part.encode("utf-8") + b"\x00")
        for text in texts:
            digest.update(text.encode("utf-8") + b"\x00")
        folder = resolve_cache_dir(cache_dir if cache_dir not in (None, "") else self.cache_dir)
        return folder / "embeddings" / f"{file_prefix or kind}-{digest.hexdigest()[:40]}.npy"

    @staticmethod
    def _write(path: Path, matrix: np.ndarray) -> None:
        buffer = io.BytesIO()
        np.save(buffer, matrix, allow_pickle=False)
        atomic_write_bytes(path, buffer.getvalue())

    @staticmethod
    def _read(path: Path, n: int) -> np.ndarray | None:
        try:
            matrix = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            log.warning("embedding cache %s is unreadable (%s); re-encoding", path, exc)
            return None
        if matrix.ndim == 2 and matrix.shape[0] == n:
            return matrix.astype(np.float32, copy=False)
        log.warning("embedding cache %s has shape %s, expected %d rows; re-encoding", path, matrix.shape, n)
        return None

    def _stack(self, keys: Sequence[tuple[str, str]]) -> np.ndarray:
        rows = []
        for k in keys:
            self._rows.move_to_end(k)
            rows.append(self._rows[k])
        return np.stack(rows).astype(np.float32, copy=False)

    def _remember(self, key: tuple[str, str], row: np.ndarray) -> None:
        self._rows[key] = row
        self._rows.move_to_end(key)
        while len(self._rows) > self.max_memory_rows:
            self._rows.popitem(last=False)

    # ---- per-text arrays on disk ---------------------------------------------------------

    def array_path(self, kind: str, key: str, text: str) -> Path:
        """The ``.npz`` file of ``text``'s arrays for ``kind`` and ``key`` (see the module doc)."""
        digest = hashlib.sha256()
        for part in (f"format={_CACHE_FORMAT}", kind, key, text):
            digest.update(part.encode("utf-8") + b"\x00")
        name = digest.hexdigest()[:40]
        return resolve_cache_dir(self.cache_dir) / "embeddings" / kind / name[:2] / f"{name[2:]}.npz"

    def load_arrays(self, kind: str, key: str, texts: Sequence[str]) -> dict[str, tuple[np.ndarray, ...]]:
        """The arrays saved for each of ``texts`` that has a readable file (absent ones left out).

        Args:
            kind: what the arrays are (``offline-minilm``, ``bertscore-tokens``…).
            key: the producer's settings (model id, layer…): a different key is a different file.
            texts: the texts.
        """
        found: dict[str, tuple[np.ndarray, ...]] = {}
        if not self.persist_arrays:
            return found
        for text in dict.fromkeys(texts):
            path = self.array_path(kind, key, text)
            try:
                with np.load(path, allow_pickle=False) as npz:
                    found[text] = tuple(npz[f"arr_{i}"] for i in range(len(npz.files)))
            except FileNotFoundError:
                continue
            except (OSError, ValueError, KeyError) as exc:  # a torn or foreign file: recompute
                log.warning("array cache %s is unreadable (%s); recomputing", path, exc)
        if found:
            self.stats.disk_hits += len(found)
            by_disk = self.stats.disk_hits_by_kind if self.stats.disk_hits_by_kind is not None else {}
            by_disk[kind] = by_disk.get(kind, 0) + len(found)
            self.stats.disk_hits_by_kind = by_disk
        return found

    def save_arrays(self, kind: str, key: str, text: str, arrays: Sequence[np.ndarray]) -> None:
        """Write ``text``'s arrays (in order, dtypes kept) for ``load_arrays``; atomic."""
        if not self.persist_arrays:
            return
        buffer = io.BytesIO()
        np.savez(buffer, *[np.ascontiguousarray(a) for a in arrays])
        atomic_write_bytes(self.array_path(kind, key, text), buffer.getvalue())

    def count_encoded(self, kind: str, n: int) -> None:
        """Record that a model was run over ``n`` texts of ``kind`` outside ``embed``."""
        if n <= 0:
            return
        self.stats.encoded += n
        by_kind = self.stats.encoded_by_kind if self.stats.encoded_by_kind is not None else {}
        by_kind[kind] = by_kind.get(kind, 0) + n
        self.stats.encoded_by_kind = by_kind

    # ---- named stores ----------------------------------------------------------------------

    def store(self, name: str, max_items: int = 64) -> Store:
        """The named bounded store (made on first use with ``max_items``)."""
        if name not in self._stores:
            self._stores[name] = Store(name, max_items, self.stats)
        return self._stores[name]

    # ---- housekeeping ----------------------------------------------------------------------

    def clear(self) -> None:
        """Forget every row and store (the disk files stay)."""
        self._rows.clear()
        for s in self._stores.values():
            s.clear()

    def reset_stats(self) -> None:
        self.stats = CacheStats(encoded_by_kind={}, disk_hits_by_kind={})
        for s in self._stores.values():
            s._stats = self.stats

    def summary(self) -> str:
        """One line for logs and the bench: what was encoded and reused."""
        s = self.stats
        kinds = ", ".join(f"{k} {v}" for k, v in sorted((s.encoded_by_kind or {}).items())) or "none"
        return (
            f"encoded {s.encoded} texts ({kinds}); reused {s.memory_hits} from memory, {s.disk_hits} from disk; "
            f"stores {s.store_hits} hits, {s.store_misses} misses"
        )


@functools.lru_cache(maxsize=1)
def default_cache() -> EmbeddingCache:
    """The process-wide cache (the one every stage uses unless a caller passes its own)."""
    return EmbeddingCache()
