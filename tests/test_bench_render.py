"""The bench table names the load average and gives CPU seconds next to wall seconds (no timing
is asserted: the figures here are made up)."""

from __future__ import annotations

import pytest

from harness.bench import _cache_delta, render


def _result() -> dict:
    row = {
        "scale": 1, "summary": "wiki", "wall_s": 3.0, "cpu_s": 2.5, "stages_s": {"align.embed": 0.0, "align.verify": 1.0},
        "claims": 22, "windows": 195, "verifier_pairs": 110, "exhaustive_pairs": 4290, "pair_ratio": 0.026,
        "claims_per_s": 7.3, "embedding_cache_hit": True,
        "embeddings": {"encoded": 0, "transcript_encoded": 0, "from_disk": 99, "transcript_from_disk": 0, "from_memory": 22},
    }
    return {
        "machine": {"cpu": "X", "cores": 2, "memory_gib": 23.5, "python": "3.11", "load_average_start": [4.1, 5.0, 5.2],
                    "load_average_end": [3.9, 4.8, 5.1]},
        "cold_start_s": 6.0, "peak_rss_mb": 1100.0,
        "rows": [row, {"scale": 1, "summary": "(all)", "wall_s": 3.0, "cpu_s": 2.5}],
        "time_growth_vs_1x": {"1x": 1.0}, "exhaustive_sample": None,
        "embedding_cache": {"encoded": 0, "disk_hits": 99, "memory_hits": 22, "transcript_texts_obtained_again": 0},
        "targets": {"warm_all_three_1x_s": 12, "peak_rss_mb": 1228, "growth_16x_max": 4, "transcript_texts_obtained_again": 0},
    }


def test_table_has_cpu_seconds_and_the_load_average():
    text = render(_result())
    assert "at the start: [4.1, 5.0, 5.2], at the end: [3.9, 4.8, 5.1]" in text
    assert "| scale | summary | wall s | CPU s |" in text
    assert "| 1x | wiki | 3.00 | 2.50 | 22 |" in text
    assert "| 1x | **all** | **3.00** | **2.50** |" in text
    assert "| peak RSS ≤ 1228 MB | 1100 MB | met |" in text


def test_rows_without_cpu_seconds_still_render():
    result = _result()
    del result["rows"][0]["cpu_s"], result["rows"][1]["cpu_s"]
    text = render(result)
    assert "| 1x | wiki | 3.00 | — | 22 |" in text and "| 1x | **all** | **3.00** | — |" in text


def test_model_outputs_on_disk_are_not_counted_as_transcript_texts():
    before = {"encoded": 0, "disk_hits": 0, "memory_hits": 0, "encoded_by_kind": {}, "disk_hits_by_kind": {}}
    after = {"encoded": 0, "disk_hits": 1100, "memory_hits": 0, "encoded_by_kind": {},
             "disk_hits_by_kind": {"offline-minilm": 1000, "sentences": 100}}
    delta = _cache_delta(before, after)
    assert delta["from_disk"] == 1100 and delta["transcript_from_disk"] == 100


def _judge_result(judged: int, cached: int) -> dict:
    result = _result()
    result["rows"][0]["judge_pairs"] = {"judged": judged, "cache_hits": cached}
    result["rows"][1]["wall_s"] = 44.0
    result.update(verifier="gguf", overrides=["model=gguf", "model.path=m.gguf"],
                  targets={"all_three_1x_s": 300, "s_per_claim": 2.0})
    return result


def test_a_judge_is_held_to_its_own_targets():
    text = render(_judge_result(judged=26, cached=0))
    assert "Verifier: `gguf` (overrides: `model=gguf model.path=m.gguf`)." in text
    assert "Judge pairs at 1x: 26 judged, 0 read from the verdict cache, for 22 claims." in text
    assert "| the three references at 1x ≤ 300 s (models loaded) | 44 s | met |" in text
    assert "| ≤ 2.0 s per claim, whole pipeline | 2 s | met |" in text  # 44 s / 22 claims
    assert "peak RSS" not in text  # the offline verifier's targets do not apply


def test_cached_verdicts_are_no_speed_figure():
    text = render(_judge_result(judged=20, cached=6))
    assert "these times are no speed figure" in text
    assert "| the three references at 1x ≤ 300 s (models loaded) | — | not measured |" in text


def test_judge_pairs_are_read_from_the_run_signature_also_through_the_cascade():
    from types import SimpleNamespace

    from harness.bench import _judge_pairs

    pairs = {"judged": 3, "cache_hits": 1, "skipped_windows": 5}
    gguf = SimpleNamespace(signature={"models": {"verifier": {"name": "gguf", "pairs": pairs}}})
    cascade = SimpleNamespace(signature={"models": {"verifier": {"name": "cascade", "judge": {"pairs": pairs}}}})
    offline = SimpleNamespace(signature={"models": {"verifier": {"name": "offline"}}})
    assert _judge_pairs(gguf) == _judge_pairs(cascade) == {"judged": 3, "cache_hits": 1}
    assert _judge_pairs(offline) is None


def test_overrides_reach_the_config_the_models_are_loaded_from(monkeypatch):
    import harness.bench as bench

    seen: list[list[str]] = []

    def compose(overrides):
        seen.append(list(overrides))
        raise RuntimeError("stop after the first compose")

    monkeypatch.setattr(bench, "_compose", compose)
    with pytest.raises(RuntimeError):
        bench.run_bench([1], ["wiki"], None, ["model=gguf", "model.path=m.gguf"])
    assert seen == [["model=gguf", "model.path=m.gguf"]]
