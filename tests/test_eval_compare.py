"""`synesthete compare` (two evaluations of the same songs, model against model) and `synesthete pool`
(one run's evaluations of different songs, joined)."""

import copy
import json

import numpy as np
import pytest

from synesthete import jsonout
from synesthete.cli import main as cli_main
from synesthete.eval.compare import CompareError, compare, comparison_table


def _metrics(run: str, model_av: np.ndarray, truth_av: np.ndarray, temps: list[float]) -> dict:
    """A metrics.json as `synesthete eval` writes it, with only the fields compare reads."""
    row = lambda a, t=0.0, s=100.0: {"av_align": float(a), "beat_f1": float(a), "reactivity": float(a),  # noqa: E731
                                     "sharpness": s, "temperature": t}
    n = len(truth_av)
    per_clip = {"ground_truth": [row(a, s=200.0) for a in truth_av],
                "model": [row(a, t) for a, t in zip(model_av, temps)],
                "shuffled_audio": [row(a - 0.2) for a in truth_av]}
    mean = lambda rows, k: float(np.mean([r[k] for r in rows]))  # noqa: E731
    results = {b: {k: mean(rows, k) for k in ("av_align", "beat_f1", "reactivity")} for b, rows in per_clip.items()}
    return {"run": run, "results": results, "per_clip": per_clip, "fps": 16, "seconds": 8.0,
            "options": {"first": 0}, "config": {"name": run, "eval": {"first": 0}},
            "clips": [{"index": 100 + i, "mode": "major", "visualizer": "strobe" if i % 3 else "tunnel"}
                      for i in range(n)]}


@pytest.fixture
def pair():
    rng = np.random.default_rng(0)
    truth = rng.uniform(0.3, 0.8, 12)                        # songs differ far more than the runs do
    b = truth - 0.05 + rng.normal(0, 0.01, 12)
    return (_metrics("A", b + 0.04, truth, [1.0] * 12),      # A: +0.04 on every song, warm (major) palettes
            _metrics("B", b, truth, [1.0] * 6 + [-1.0] * 6))


def test_a_consistent_small_gain_is_supported_song_by_song(pair):
    rows = {r["statistic"]: r for r in compare(*pair)["rows"]}
    av = rows["model av_align"]
    assert av["difference"] == pytest.approx(0.04) and av["ci95"][0] > 0.03      # paired: sure despite the spread
    assert av["a"] - av["b"] == pytest.approx(av["difference"])
    assert rows["av_align, model - shuffled_audio"]["difference"] == pytest.approx(0.04)
    assert rows["model mode_accuracy"]["a"] == 1.0 and rows["model mode_accuracy"]["b"] == 0.5
    assert rows["model sharpness_ratio"]["difference"] == pytest.approx(0.0)
    assert "null_audio" not in " ".join(rows)                                      # neither scored it
    assert "model tempo_accuracy" not in rows                  # evaluations from before it existed
    table = comparison_table(compare(*pair))
    assert "| model av_align | " in table and "+0.040" in table
    same = compare(pair[0], pair[0])["rows"]
    assert all(r["difference"] == 0 and r["ci95"] == [0, 0] for r in same)


def test_different_songs_or_truths_are_refused(pair):
    a, b = pair
    fewer = copy.deepcopy(b)
    fewer["clips"] = fewer["clips"][:6]
    with pytest.raises(CompareError, match="different songs"):
        compare(a, fewer)
    other_truth = copy.deepcopy(b)
    other_truth["per_clip"]["ground_truth"][3]["av_align"] += 0.1
    with pytest.raises(CompareError, match="different ground truths"):
        compare(a, other_truth)


def test_compare_cli(pair, tmp_path, capsys):
    pa, pb = tmp_path / "a" / "eval", tmp_path / "b.json"
    pa.mkdir(parents=True)
    (pa / "metrics.json").write_text(json.dumps(pair[0]))
    pb.write_text(json.dumps(pair[1]))
    assert cli_main(["compare", str(tmp_path / "a"), str(pb), "--json"]) == 0      # a run folder or a file
    out = json.loads(capsys.readouterr().out)
    assert out["songs"] == 12 and out["rows"][0]["statistic"] == "model av_align"
    gap = copy.deepcopy(pair[1])                   # a song with nothing to score: NaN, written as null
    gap["per_clip"]["model"][0]["beat_f1"] = float("nan")
    pb.write_text(jsonout.dumps(gap))
    assert "NaN" not in pb.read_text()
    assert cli_main(["compare", str(tmp_path / "a"), str(pb), "--json"]) == 0
    beat = next(r for r in json.loads(capsys.readouterr().out)["rows"] if r["statistic"] == "model beat_f1")
    assert beat["songs"] == 11                     # read back as NaN and left out, not a crash
    (tmp_path / "bad.json").write_text("{}")
    for argv, text in ((["compare", str(pb), str(tmp_path / "none")], "no metrics.json"),
                       (["compare", str(pb), str(tmp_path / "bad.json")], "not a synesthete eval metrics.json")):
        assert cli_main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert text in err and "\n" not in err and "Traceback" not in err


def test_pool_joins_one_runs_parts_and_refuses_anything_else(pair, tmp_path, capsys):
    from synesthete.eval.pool import pool
    from synesthete.eval.uncertainty import intervals

    a = pair[0]
    first, second = copy.deepcopy(a), copy.deepcopy(a)        # songs 0-5 and 6-11 of one run, scored apart
    for part, rows in ((first, slice(0, 6)), (second, slice(6, 12))):
        part["clips"] = part["clips"][rows]
        part["per_clip"] = {b: r[rows] for b, r in part["per_clip"].items()}
    second["config"]["eval"] = {"first": 6}                    # which songs: allowed to differ
    pooled = pool([first, second])
    assert pooled["songs"] == 12 and pooled["intervals"] == intervals(a["per_clip"])   # as if scored at once
    assert sum(e["songs"] for e in pooled["per_visualizer"].values()) == 12
    scored = copy.deepcopy(second)                             # one part scored with the learned nets
    for rows in scored["per_clip"].values():
        for r in rows:
            r["visualizer_accuracy"] = 1.0
    mixed = pool([first, scored])                              # a metric one part lacks is left out
    assert mixed["intervals"] == pooled["intervals"]
    assert all("visualizer_accuracy" not in r for rows in mixed["per_clip"].values() for r in rows)
    with pytest.raises(CompareError, match="scored too"):
        pool([first, first])
    with pytest.raises(CompareError, match="another config"):
        pool([first, pair[1]])                                   # another run
    older, newer = copy.deepcopy(first), copy.deepcopy(second)  # one part written before dit.self_cond existed
    newer["config"]["dit"] = {"self_cond": False}
    assert pool([older, newer])["songs"] == 12
    newer["config"]["dit"] = {"self_cond": True}
    with pytest.raises(CompareError, match=r"differs in: dit\.self_cond\)"):
        pool([older, newer])
    alone = pool([a])                        # one evaluation: its intervals recomputed by today's code
    assert alone["songs"] == 12 and alone["intervals"] == intervals(a["per_clip"], a["clips"])
    with pytest.raises(CompareError, match="at least one"):
        pool([])
    for k, part in enumerate((first, second)):
        (tmp_path / f"p{k}.json").write_text(json.dumps(part))
    assert cli_main(["pool", str(tmp_path / "p0.json"), str(tmp_path / "p1.json")]) == 0
    out = capsys.readouterr().out
    assert "12 songs" in out and "| strobe | 8 |" in out and "95% intervals over the songs" in out
    assert cli_main(["pool", str(tmp_path / "p0.json"), str(tmp_path / "p0.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert "scored too" in err and "\n" not in err


def test_the_pace_is_compared_when_both_evaluations_scored_it(pair):
    a, b = copy.deepcopy(pair[0]), copy.deepcopy(pair[1])
    for m, hits in ((a, [1.0] * 12), (b, [1.0] * 6 + [0.0] * 6)):
        for row, hit in zip(m["per_clip"]["model"], hits):
            row["tempo_accuracy"] = hit
    rows = {r["statistic"]: r for r in compare(a, b)["rows"]}
    assert rows["model tempo_accuracy"]["a"] == 1.0 and rows["model tempo_accuracy"]["difference"] == 0.5
    assert "model tempo_accuracy" not in {r["statistic"] for r in compare(a, pair[1])["rows"]}   # B lacks it


def test_the_mode_ranking_is_compared_when_the_songs_have_both_modes(pair):
    a, b = copy.deepcopy(pair[0]), copy.deepcopy(pair[1])
    assert "model mode_auc" not in {r["statistic"] for r in compare(a, b)["rows"]}   # all major: nothing to rank
    for m in (a, b):
        for i, clip in enumerate(m["clips"]):
            clip["mode"] = "major" if i < 6 else "minor"
    auc = {r["statistic"]: r for r in compare(a, b)["rows"]}["model mode_auc"]
    # A's palette is warm for every song (no ranking), B's warm for the major six and cool for the rest
    assert auc["a"] == 0.5 and auc["b"] == 1.0 and auc["difference"] == -0.5
    assert auc["ci95"][1] < 0 and auc["songs"] == 12
